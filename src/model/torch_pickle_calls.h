// Internal to the restricted unpickler (torch_pickle.cc): the allowlist of
// globals and what each allowed callable yields. Pure functions on the graph
// being built; not for use outside src/model.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "model/torch_pickle.h"

namespace mg::model::pickle_internal {

// OK when "module.name" is on the allowlist; otherwise an error naming it.
Status CheckGlobal(const std::string& dotted_name);

// REDUCE (or NEWOBJ when `newobj`): applies the allowed callable `callable`
// (a kGlobal) to the tuple `args`. Tensors it creates are appended to
// graph->tensors. Returns the resulting object.
Result<PickleObject> Call(PickleGraph* graph, const PickleObject& callable,
                          const PickleObject& args, bool newobj);

// BINPERSID: resolves a ('storage', StorageType, key, location, numel)
// persistent id; appends to graph->storages.
Result<PickleObject> PersistentLoad(PickleGraph* graph, const PickleObject& pid);

// The error for an opcode the unpickler does not execute: object
// instantiation (OBJ, NEWOBJ_EX), extension globals (EXT1/2/4), text
// persistent ids, protocol 0 text opcodes, and unknown opcodes.
Status RefuseOpcode(uint8_t opcode);

}  // namespace mg::model::pickle_internal
