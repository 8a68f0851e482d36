// The packed path of UpdateSet and UpdateZSet (server/resp/set_access.h,
// server/resp/zset_access.h): their small values are packed in the record
// and rebuilt by an editor of the packed form, which moves to a box of its
// own once the value outgrows it.
#pragma once

#include <string_view>
#include <utility>

#include "server/resp/command.h"
#include "server/resp/helpers.h"
#include "util/function_ref.h"

namespace quiver::resp {

// One compare-and-swap of a packed or absent (seen null) value of `kind`,
// or none where the edit leaves an absent value empty (a removal from a
// missing key costs a lookup). Sets *boxed if another writer boxed the
// value meanwhile (nothing is done).
//
// PackedEditor(ctx) is an Editor of the packed form with Load(record)
// (false if malformed), changed(), size(), Build(ctx, key, expire_at_ms)
// (the record of the value as edited; nullptr if out of memory) and a
// static Corrupt() status.
template <typename PackedEditor, typename Editor>
Status UpdatePackedWith(Context& ctx, std::string_view key, RecordKind kind,
                        FunctionRef<Status(Editor&)> edit, const Record* seen, bool* boxed) {
  using Change = KeySpace::Change;
  Record* made = nullptr;  // built from an absent value, for the Mutate to install
  if (seen == nullptr) {
    PackedEditor editor(ctx);
    QUIVER_RETURN_IF_ERROR(edit(editor));
    if (editor.size() == 0) return Status::Ok();
    made = editor.Build(ctx, key, kNeverExpires);
    if (made == nullptr) return Oom();
  }
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (cur == nullptr && made != nullptr) {  // still absent: the value built above
          return Change{Change::kPut, std::exchange(made, nullptr)};
        }
        if (cur != nullptr && cur->kind != kind) return WrongType();
        *boxed = cur != nullptr && cur->boxed();
        if (*boxed) return Change{};
        PackedEditor editor(ctx);
        if (!editor.Load(cur)) return PackedEditor::Corrupt();
        QUIVER_RETURN_IF_ERROR(edit(editor));
        if (!editor.changed()) return Change{};
        if (editor.size() == 0) return Change{Change::kErase};
        Record* r = editor.Build(ctx, key, cur != nullptr ? cur->expire_at_ms : kNeverExpires);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  if (made != nullptr) Record::Free(made);  // another writer created the key first
  return done.status();
}

}  // namespace quiver::resp
