"""quiver: the Python client of the quiver feature server (quiverd).

    import quiver
    with quiver.Client("127.0.0.1", 7070) as q:
        q.apply("examples/features.yaml")
        q.put("item_stats", [{"item_id": "i1", "popularity_score": 0.4}])
        features = q.get_online_features("item_stats", ["i1", "i2"])
        train = q.get_historical_features(labels_df, ["item_stats:popularity_score"])

See docs/python.md.
"""

from .client import Client, OnlineFeatures
from .errors import QuiverError

__all__ = ["Client", "OnlineFeatures", "QuiverError"]
__version__ = "0.1.0"
