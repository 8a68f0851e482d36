#include "server/scripting/lua_convert.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace quiver::scripting {

namespace {

// Reads one reply at [*p, end), pushing its value (or nothing if the
// bytes are not one whole reply). Works on raw pointers only: a Lua error
// (out of memory) may unwind through it.
class ReplyReader {
 public:
  ReplyReader(lua_State* lua, const char* p, const char* end) : lua_(lua), p_(p), end_(end) {}
  // True once a value was pushed; *error if it was an error reply.
  bool Push(bool* error);

 private:
  bool Line(const char** begin, size_t* size);
  bool Count(int64_t* n);
  bool Aggregate(int64_t n, bool as_map, bool as_set);
  void SetField(const char* name);

  lua_State* lua_;
  const char* p_;
  const char* end_;
};

bool ReplyReader::Line(const char** begin, size_t* size) {
  const char* q = p_;
  while (q + 1 < end_ && !(q[0] == '\r' && q[1] == '\n'))
    ++q;
  if (q + 1 >= end_) return false;
  *begin = p_;
  *size = static_cast<size_t>(q - p_);
  p_ = q + 2;
  return true;
}

bool ReplyReader::Count(int64_t* n) {
  const char* b;
  size_t size;
  if (!Line(&b, &size)) return false;
  return std::from_chars(b, b + size, *n).ec == std::errc();
}

// Sets field `name` of the table below the top to the top value.
void ReplyReader::SetField(const char* name) {
  lua_setfield(lua_, -2, name);
}

bool ReplyReader::Aggregate(int64_t n, bool as_map, bool as_set) {
  lua_createtable(lua_, as_map || as_set ? 0 : static_cast<int>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    bool ignored;
    if (!Push(&ignored)) return false;
    if (as_set) {
      lua_pushboolean(lua_, 1);
      lua_settable(lua_, -3);
    } else if (as_map) {
      if (!Push(&ignored)) return false;
      lua_settable(lua_, -3);
    } else {
      lua_rawseti(lua_, -2, static_cast<int>(i + 1));
    }
  }
  if (as_map || as_set) {  // {map = t} or {set = t}
    lua_createtable(lua_, 0, 1);
    lua_insert(lua_, -2);
    SetField(as_map ? "map" : "set");
  }
  return true;
}

bool ReplyReader::Push(bool* error) {
  *error = false;
  if (p_ >= end_) return false;
  const char type = *p_++;
  const char* b;
  size_t size;
  int64_t n = 0;
  switch (type) {
    case ':':
      if (!Count(&n)) return false;
      lua_pushnumber(lua_, static_cast<lua_Number>(n));
      return true;
    case '$':
    case '=':
      if (!Count(&n)) return false;
      if (n < 0) return lua_pushboolean(lua_, 0), true;
      if (end_ - p_ < n + 2) return false;
      b = p_;
      p_ += n + 2;
      if (type == '$') return lua_pushlstring(lua_, b, static_cast<size_t>(n)), true;
      lua_createtable(lua_, 0, 1);  // {verbatim_string = {format=…, string=…}}
      lua_createtable(lua_, 0, 2);
      lua_pushlstring(lua_, b, n >= 3 ? 3 : static_cast<size_t>(n));
      SetField("format");
      lua_pushlstring(lua_, n >= 4 ? b + 4 : b, n >= 4 ? static_cast<size_t>(n - 4) : 0);
      SetField("string");
      SetField("verbatim_string");
      return true;
    case '*':
    case '>':
      if (!Count(&n)) return false;
      if (n < 0) return lua_pushboolean(lua_, 0), true;
      return Aggregate(n, false, false);
    case '%':
    case '~':
      if (!Count(&n)) return false;
      return Aggregate(n, type == '%', type == '~');
    case '|':  // attributes: skipped, the value follows
      if (!Count(&n) || !Aggregate(n, true, false)) return false;
      lua_pop(lua_, 1);
      return Push(error);
    default:
      break;
  }
  if (!Line(&b, &size)) return false;
  const std::string_view line(b, size);
  switch (type) {
    case '+':
      lua_createtable(lua_, 0, 1);
      lua_pushlstring(lua_, b, size);
      SetField("ok");
      return true;
    case '-':
      *error = true;
      PushErrorTable(lua_, std::string_view(b - 1, size + 1));  // with its '-'
      return true;
    case ',': {
      double d = 0;
      if (line == "inf")
        d = HUGE_VAL;
      else if (line == "-inf")
        d = -HUGE_VAL;
      else if (line == "nan")
        d = NAN;
      else
        std::from_chars(b, b + size, d);
      lua_createtable(lua_, 0, 1);
      lua_pushnumber(lua_, d);
      SetField("double");
      return true;
    }
    case '#':
      lua_pushboolean(lua_, line == "t");
      return true;
    case '_':
      lua_pushnil(lua_);
      return true;
    case '(':
      lua_createtable(lua_, 0, 1);
      lua_pushlstring(lua_, b, size);
      SetField("big_number");
      return true;
    default:
      return false;
  }
}

// The text with CR and LF made spaces: a status or error reply is a line.
std::string OneLine(const char* s, size_t n) {
  std::string out(s, n);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

// Pushes field `name` of the table at the top, without metamethods (a
// script's __index must not run, nor fail, while a reply is written).
void RawField(lua_State* lua, const char* name) {
  lua_pushstring(lua, name);
  lua_rawget(lua, -2);
}

// The string field `name` of the table at the top, or nullptr.
const char* StringField(lua_State* lua, const char* name, size_t* size) {
  RawField(lua, name);
  const char* s = lua_type(lua, -1) == LUA_TSTRING ? lua_tolstring(lua, -1, size) : nullptr;
  lua_pop(lua, 1);  // the string stays alive: the table holds it
  return s;
}

// Writes the value at the top of the Lua stack as a reply, without
// recursion: a script's table may nest thousands of levels (up to where
// Lua's stack ends, as in Redis), more than a thread's C stack should be
// asked to hold, so each open table is a Frame here and its Lua values stay
// on Lua's stack: the table (and, for a map or set, its field, the key
// lua_next walks from, and the current value). The Lua stack grows as it
// did when this was recursive, so nesting ends at the same depth as
// Redis's.
class ReplyWriter {
 public:
  ReplyWriter(lua_State* lua, protocol::RespWriter& out, int script_resp)
      : lua_(lua), out_(out), script_resp_(script_resp) {}
  // Writes the value at the top; leaves the stack as it found it.
  void Write();

 private:
  struct Frame {
    enum class Step : uint8_t { kNext, kKeyOpen, kValuePending, kValueOpen };
    bool pairs = false;  // a map or set (its field on the stack) or an array
    bool set = false;
    Step step = Step::kNext;
    int next = 0, count = 0;  // an array's next index (from 0) and its length
  };
  // Writes the value at the top; true if it opened a table (a new frame),
  // false if it wrote all of it (the caller pops it).
  bool Open();
  // Pushes the frame's next value to write; false if there is none.
  bool Next(Frame& f);
  // The value Next pushed is written: pops it and moves on.
  void Written(Frame& f);
  bool Table();
  bool Special();
  void Pairs(bool set);
  int64_t Integer(lua_Number n) {
    return n >= -9.2233720368547758e18 && n < 9.2233720368547758e18 ? static_cast<int64_t>(n)
                                                                    : INT64_MIN;
  }

  lua_State* lua_;
  protocol::RespWriter& out_;
  int script_resp_;
  std::vector<Frame> frames_;
};

void ReplyWriter::Write() {
  if (!Open()) return;
  while (!frames_.empty()) {
    Frame& f = frames_.back();
    if (Next(f)) {
      if (!Open()) Written(frames_.back());
      continue;
    }
    if (f.pairs) lua_pop(lua_, 1);  // the map's or set's field
    frames_.pop_back();
    if (!frames_.empty()) Written(frames_.back());
  }
}

bool ReplyWriter::Open() {
  switch (lua_type(lua_, -1)) {
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(lua_, -1, &n);
      out_.Bulk(std::string_view(s, n));
      return false;
    }
    case LUA_TBOOLEAN:
      if (script_resp_ >= 3) {
        out_.Bool(lua_toboolean(lua_, -1) != 0);
      } else if (lua_toboolean(lua_, -1)) {
        out_.Integer(1);
      } else {
        out_.Null();
      }
      return false;
    case LUA_TNUMBER:
      out_.Integer(Integer(lua_tonumber(lua_, -1)));
      return false;
    case LUA_TTABLE:
      // As Redis: nesting ends where Lua's stack does (about 8,000 levels).
      if (!lua_checkstack(lua_, 4)) {
        out_.Error("ERR reached lua stack limit");
        return false;
      }
      return Table();
    default:
      out_.Null();
      return false;
  }
}

bool ReplyWriter::Next(Frame& f) {
  using Step = Frame::Step;
  if (!f.pairs) {
    if (f.next == f.count) return false;
    lua_rawgeti(lua_, -1, ++f.next);
    return true;
  }
  if (f.step == Step::kValuePending) {  // the value lua_next pushed
    f.step = Step::kValueOpen;
    return true;
  }
  // The stack holds the field and the last key: lua_next replaces the key
  // with the next key and its value.
  if (lua_next(lua_, -2) == 0) return false;
  lua_pushvalue(lua_, -2);  // the key, written without disturbing lua_next
  f.step = Step::kKeyOpen;
  return true;
}

void ReplyWriter::Written(Frame& f) {
  lua_pop(lua_, 1);
  if (!f.pairs) return;
  if (f.step == Frame::Step::kKeyOpen && !f.set) {
    f.step = Frame::Step::kValuePending;
    return;
  }
  if (f.step == Frame::Step::kKeyOpen) lua_pop(lua_, 1);  // a set's value
  f.step = Frame::Step::kNext;
}

// A table with err, ok, double, big_number, map, set or verbatim_string.
bool ReplyWriter::Special() {
  size_t n = 0;
  if (const char* err = StringField(lua_, "err", &n)) return out_.Error(OneLine(err, n)), true;
  if (const char* ok = StringField(lua_, "ok", &n)) return out_.Simple(OneLine(ok, n)), true;
  RawField(lua_, "double");
  if (lua_type(lua_, -1) == LUA_TNUMBER) {
    out_.Double(lua_tonumber(lua_, -1));
    lua_pop(lua_, 1);
    return true;
  }
  lua_pop(lua_, 1);
  if (const char* big = StringField(lua_, "big_number", &n)) {
    if (out_.version() < 3) return out_.Bulk(std::string_view(big, n)), true;
    out_.out()->append("(").append(OneLine(big, n)).append("\r\n");
    return true;
  }
  return false;
}

void ReplyWriter::Pairs(bool set) {
  int n = 0;
  for (lua_pushnil(lua_); lua_next(lua_, -2) != 0; lua_pop(lua_, 1))
    ++n;
  if (set) {
    out_.Set(static_cast<size_t>(n));
  } else {
    out_.Map(static_cast<size_t>(n));
  }
  lua_pushnil(lua_);  // the key lua_next starts from
  frames_.push_back({.pairs = true, .set = set});
}

// Writes the table at the top: whole (false), or its header, opening a
// frame for its elements (true).
bool ReplyWriter::Table() {
  if (Special()) return false;
  for (const char* name : {"map", "set"}) {
    RawField(lua_, name);
    if (lua_type(lua_, -1) == LUA_TTABLE) {
      Pairs(name[0] == 's');  // the field stays on the stack with the frame
      return true;
    }
    lua_pop(lua_, 1);
  }
  RawField(lua_, "verbatim_string");
  if (lua_type(lua_, -1) == LUA_TTABLE) {
    size_t fn = 0, sn = 0;
    const char* format = StringField(lua_, "format", &fn);
    const char* text = StringField(lua_, "string", &sn);
    if (format != nullptr && text != nullptr) {
      out_.Verbatim(std::string_view(text, sn));
      lua_pop(lua_, 1);
      return false;
    }
  }
  lua_pop(lua_, 1);
  int n = 0;
  for (;; ++n) {  // the array part, up to its first nil
    lua_rawgeti(lua_, -1, n + 1);
    const bool end = lua_isnil(lua_, -1);
    lua_pop(lua_, 1);
    if (end) break;
  }
  out_.Array(static_cast<size_t>(n));
  if (n == 0) return false;
  frames_.push_back({.count = n});
  return true;
}

}  // namespace

bool PushReply(lua_State* lua, std::string_view reply) {
  bool error = false;
  ReplyReader reader(lua, reply.data(), reply.data() + reply.size());
  if (!reader.Push(&error)) PushErrorTable(lua, "ERR unexpected reply from a command");
  return error;
}

void PushErrorTable(lua_State* lua, std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  std::string_view code = "ERR", message = text;
  if (!text.empty() && text[0] == '-') {
    const size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      message = text.substr(1);
    } else {
      code = text.substr(1, space - 1);
      message = text.substr(space + 1);
    }
  }
  lua_createtable(lua, 0, 1);
  lua_pushlstring(lua, code.data(), code.size());
  lua_pushliteral(lua, " ");
  lua_pushlstring(lua, message.data(), message.size());
  lua_concat(lua, 3);
  lua_setfield(lua, -2, "err");
}

void WriteReply(lua_State* lua, protocol::RespWriter& out, int script_resp) {
  ReplyWriter(lua, out, script_resp).Write();
}

}  // namespace quiver::scripting
