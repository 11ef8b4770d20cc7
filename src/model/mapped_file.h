// The model's name for a read-only mapped file; the type lives in base
// (base/mapped_file.h) with the rest of the file API.
#pragma once

#include "base/mapped_file.h"

namespace mg::model {

using MappedFile = ::mg::MappedFile;

}  // namespace mg::model
