#include "server/resp/errors.h"

namespace quiver::resp {

std::string ErrorReply(const Status& status) {
  switch (status.kind()) {
    case ErrorKind::kNone:
      return "ERR " + status.message();
    case ErrorKind::kOutOfMemory:
      return std::string(kOomReply);
    case ErrorKind::kWrongType:
    case ErrorKind::kNoAuth:
    case ErrorKind::kWrongPass:
    case ErrorKind::kNoPermission:
    case ErrorKind::kReadOnly:
    case ErrorKind::kBusy:
    case ErrorKind::kMisconf:
    case ErrorKind::kClusterDown:
    case ErrorKind::kLoading:
      break;
  }
  return status.KindAndMessage();
}

}  // namespace quiver::resp
