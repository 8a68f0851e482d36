// quiver: command-line client of quiverd.
#include <CLI/CLI.hpp>

#include "client/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app("quiver: command-line client of the quiver feature server", "quiver");
  app.require_subcommand(1);
  quiver::ClientOptions options;
  std::string hosts;
  app.add_option("--host", hosts,
                 "quiverd host (default 127.0.0.1), or a cluster's members: "
                 "host:port,host:port,... (the next is used when one goes away)");
  app.add_option("--port", options.port, "quiverd native port (default 7070)");
  app.add_option("--timeout-ms", options.timeout_ms, "Per-request timeout, ms (default 10000)");
  app.add_option("--after-timeout-ms", options.after_timeout_ms,
                 "How long a read waits for its --after positions, ms (default 1000)");
  app.add_option("--user", options.user,
                 "The user to run as (default: $QUIVER_USER, else the default user)")
      ->envname("QUIVER_USER");
  app.add_option("--password", options.password,
                 "The user's password; the default user's is quiverd's requirepass "
                 "(default: $QUIVER_PASSWORD)")
      ->envname("QUIVER_PASSWORD");
  // TLS, with redis-cli's flags (docs/security.md#tls).
  app.add_flag("--tls", options.tls.enabled, "Connect over TLS (quiverd's --tls-native-port)");
  app.add_option("--cacert", options.tls.ca_file,
                 "CA certificates (PEM) to verify quiverd with (default: the system's)");
  app.add_option("--cacertdir", options.tls.ca_dir, "Directory of CA certificates");
  app.add_option("--cert", options.tls.cert_file, "Client certificate (PEM), if quiverd asks one");
  app.add_option("--key", options.tls.key_file, "The client certificate's private key (PEM)");
  app.add_option("--sni", options.tls.server_name,
                 "Name quiverd's certificate must carry (default: the host)");
  bool insecure = false;
  app.add_flag("--insecure", insecure, "Accept any server certificate (tests only)");

  std::string apply_path;
  auto* apply = app.add_subcommand("apply", "Apply feature definitions (YAML)")->fallthrough();
  apply->add_option("FILE", apply_path, "Definitions file")->required();

  quiver::cli::PutArgs put_args;
  auto* put = app.add_subcommand("put", "Write one entity's fields")->fallthrough();
  put->add_option("VIEW", put_args.view, "View, NAME or NAME@vN")->required();
  put->add_option("KEY", put_args.key, "Join-key values joined by commas, e.g. u1,i9")->required();
  put->add_option("FIELDS", put_args.assignments,
                  "field=value ...; vectors as comma-separated numbers")
      ->required();
  put->add_option("--event-time", put_args.event_time,
                  "Event time, RFC 3339 or Unix ms (default: now)");

  quiver::cli::GetArgs get_args;
  auto* get = app.add_subcommand("get", "Read entities' features")->fallthrough();
  get->add_option("VIEW", get_args.view, "View, NAME or NAME@vN")->required();
  get->add_option("KEYS", get_args.keys, "Keys (join-key values joined by commas)")->required();
  get->add_option("--fields", get_args.fields, "Comma-separated fields (default: all)");
  get->add_flag("--json", get_args.json, "One JSON object per key");
  get->add_option("--as-of", get_args.as_of,
                  "Read the values as they were at this time (RFC 3339 or Unix ms)");
  get->add_option("--after", get_args.after,
                  "On a cluster: read once the server applied these writes' positions "
                  "(PARTITION:OFFSET,..., as put prints them)");

  quiver::cli::HistoryArgs history_args;
  auto* history =
      app.add_subcommand("history", "An entity's past versions, or their aggregate")->fallthrough();
  history->add_option("VIEW", history_args.view, "View, NAME or NAME@vN")->required();
  history->add_option("KEY", history_args.key, "Join-key values joined by commas")->required();
  history->add_option("--from", history_args.from, "First event time (RFC 3339 or Unix ms)");
  history->add_option("--to", history_args.to, "Last event time (RFC 3339 or Unix ms)");
  history->add_option("--agg", history_args.agg, "latest, avg, sum, min, max or count");
  history->add_option("--fields", history_args.fields, "Comma-separated fields (default: all)");
  history->add_option("--limit", history_args.limit, "At most this many (newest) versions");
  history->add_flag("--json", history_args.json, "One JSON object per version");
  history->add_option("--after", history_args.after,
                      "On a cluster: read once the server applied these positions");

  quiver::cli::TrainingSetArgs ts_args;
  auto* training =
      app.add_subcommand("training-set",
                         "Point-in-time correct training set: label rows joined with features")
          ->fallthrough();
  training
      ->add_option("--labels", ts_args.labels,
                   "CSV: the entities' join keys, event_timestamp, label columns")
      ->required();
  training->add_option("--features", ts_args.features, "view:field,view@vN:field,...")->required();
  training->add_option("--out", ts_args.out, "Output CSV ('-': stdout)")->required();
  training->add_option("--batch-rows", ts_args.batch_rows, "Label rows per request (default 8192)");
  training->add_option("--window-rows", ts_args.window_rows,
                       "Label rows read, sorted by entity and sent together (default 262144)");
  training->add_option("--connections", ts_args.connections,
                       "Parallel connections to quiverd (default 2)");
  training->add_flag("!--no-progress", ts_args.progress, "No progress bar");

  bool views_json = false;
  auto* views = app.add_subcommand("views", "List feature views")->fallthrough();
  views->add_flag("--json", views_json, "JSON output");

  std::string describe_view;
  auto* describe = app.add_subcommand("describe", "Describe one view as JSON")->fallthrough();
  describe->add_option("VIEW", describe_view, "View, NAME or NAME@vN")->required();

  std::string delete_view;
  std::vector<std::string> delete_keys;
  auto* del = app.add_subcommand("delete", "Remove entities' online rows")->fallthrough();
  del->add_option("VIEW", delete_view, "View")->required();
  del->add_option("KEYS", delete_keys, "Keys")->required();

  auto* ping = app.add_subcommand("ping", "Check that quiverd answers")->fallthrough();

  quiver::cli::BackfillArgs backfill_args;
  auto* backfill =
      app.add_subcommand("backfill", "Compute a view's history from past source events")
          ->fallthrough();
  backfill->add_option("--view", backfill_args.view, "The view (it must have a source)")
      ->required();
  backfill->add_option("--from-file", backfill_args.file, "JSON lines, one event each, in order");
  backfill->add_option("--from-topic", backfill_args.topic,
                       "A Kafka topic, read from its beginning to its end as of now");
  backfill->add_option("--brokers", backfill_args.brokers,
                       "Kafka bootstrap servers (--from-topic)");
  backfill->add_option("--until", backfill_args.until,
                       "At the end, age the windows up to this time (default: now)");
  backfill->add_option("--batch-events", backfill_args.batch_events,
                       "Events per request (default 5000)");
  backfill->add_flag("!--no-progress", backfill_args.progress, "No progress bar");

  quiver::cli::ImportRedisArgs import_args;
  auto* import_redis =
      app.add_subcommand("import-redis",
                         "Copy every key of a running Redis (every type, with its TTL) into "
                         "quiverd's RESP port")
          ->fallthrough();
  import_redis->add_option("SOURCE", import_args.source, "The Redis to copy, HOST:PORT")
      ->required();
  import_redis->add_option("--source-user", import_args.source_user,
                           "The source's ACL user (with --source-password)");
  import_redis
      ->add_option("--source-password", import_args.source_password,
                   "The source's password (default: $REDIS_PASSWORD)")
      ->envname("REDIS_PASSWORD");
  import_redis->add_option("--resp-port", import_args.resp_port,
                           "quiverd's RESP port, on --host (default 6379; with --tls, its "
                           "--tls-port)");
  import_redis->add_flag("--source-tls", import_args.source_tls.enabled,
                         "Connect to the source over TLS (its tls-port)");
  import_redis->add_option("--source-cacert", import_args.source_tls.ca_file,
                           "CA certificates to verify the source with (default: the system's)");
  import_redis->add_option("--source-cert", import_args.source_tls.cert_file,
                           "Client certificate to show the source");
  import_redis->add_option("--source-key", import_args.source_tls.key_file, "Its private key");
  import_redis->add_option("--source-sni", import_args.source_tls.server_name,
                           "Name the source's certificate must carry (default: its host)");
  import_redis->add_option("--db", import_args.db, "Copy only this database (default: all)");
  import_redis->add_flag("--replace", import_args.replace,
                         "Overwrite keys quiverd already has (default: skip them)");
  import_redis->add_option("--batch", import_args.batch, "Keys per round trip (default 500)");
  import_redis->add_flag("!--no-progress", import_args.progress, "No progress bar");
  import_redis->add_option("--map", import_args.maps,
                           "PATTERN=VIEW: read keys holding one feature value each (JSON) into "
                           "the view's rows, e.g. 'fs:user:{user_id}:{feature}:v{version}="
                           "user_profile' (repeatable)");

  bool compact_wait = true;
  auto* compact =
      app.add_subcommand("compact",
                         "Compact the history now: drops versions past their view's retention")
          ->fallthrough();
  compact->add_flag("!--no-wait", compact_wait, "Return once started, not when done");

  std::string checkpoint_dir;
  auto* checkpoint =
      app.add_subcommand("checkpoint",
                         "Write a copy of the server's whole state into DIR, on the server's "
                         "machine (a data directory to start a new member from)")
          ->fallthrough();
  checkpoint->add_option("DIR", checkpoint_dir, "A directory that does not exist yet")->required();

  bool status_json = false;
  auto* status = app.add_subcommand("status", "Server state: rows, window states, Kafka ingestion")
                     ->fallthrough();
  status->add_flag("--json", status_json, "JSON output");

  std::string stats_view, stats_window = "recent";
  bool stats_json = false;
  auto* stats = app.add_subcommand("stats", "Statistics of a view's written values, per field")
                    ->fallthrough();
  stats->add_option("view", stats_view, "View (name or name@vN)")->required();
  stats->add_option("--window", stats_window,
                    "recent (default: the last hour, quiverd's stats_window) or since_start");
  stats->add_flag("--json", stats_json, "The JSON document, as GET /v1/views/{view}/stats");

  bool freshness_json = false;
  auto* freshness =
      app.add_subcommand("freshness", "Age of each view's served values against its SLA")
          ->fallthrough();
  freshness->add_flag("--json", freshness_json, "The JSON document, as GET /v1/freshness");

  std::string drift_view, drift_window = "recent";
  bool drift_json = false;
  auto* drift = app.add_subcommand("drift", "Drift of views' recent values from their baselines")
                    ->fallthrough();
  drift->add_option("view", drift_view, "View (default: every view with a baseline)");
  drift->add_option("--window", drift_window, "recent (default) or since_start");
  drift->add_flag("--json", drift_json, "The JSON document, as GET /v1/drift");

  std::string baseline_action, baseline_view, baseline_window = "since_start";
  auto* baseline =
      app.add_subcommand("baseline", "Capture (or clear) a view's drift baseline")->fallthrough();
  baseline->add_option("action", baseline_action, "capture or clear")->required();
  baseline->add_option("view", baseline_view, "View (name or name@vN)")->required();
  baseline->add_option("--window", baseline_window,
                       "capture from: since_start (default) or recent");

  CLI11_PARSE(app, argc, argv);
  if (!hosts.empty()) options.servers = quiver::cli::SplitCommas(hosts);
  options.tls.verify = !insecure;
  if (*apply) return quiver::cli::Apply(options, apply_path);
  if (*import_redis) return quiver::cli::ImportRedis(options, import_args);
  if (*put) return quiver::cli::Put(options, put_args);
  if (*get) return quiver::cli::Get(options, get_args);
  if (*views) return quiver::cli::Views(options, views_json);
  if (*describe) return quiver::cli::Describe(options, describe_view);
  if (*del) return quiver::cli::Delete(options, delete_view, delete_keys);
  if (*ping) return quiver::cli::Ping(options);
  if (*history) return quiver::cli::History(options, history_args);
  if (*training) return quiver::cli::TrainingSet(options, ts_args);
  if (*backfill) return quiver::cli::Backfill(options, backfill_args);
  if (*status) return quiver::cli::ShowStatus(options, status_json);
  if (*compact) return quiver::cli::Compact(options, compact_wait);
  if (*checkpoint) return quiver::cli::Checkpoint(options, checkpoint_dir);
  if (*stats) return quiver::cli::ShowStats(options, stats_view, stats_window, stats_json);
  if (*freshness) return quiver::cli::ShowFreshness(options, freshness_json);
  if (*drift) return quiver::cli::ShowDrift(options, drift_view, drift_window, drift_json);
  if (*baseline)
    return quiver::cli::Baseline(options, baseline_action, baseline_view, baseline_window);
  return 2;
}
