// The database schema, as an ordered list of migrations. This file and schema.cpp are the
// one place where the schema is written down; PRAGMA user_version counts the migrations
// applied. A migration, once released, is never edited: changes are new migrations.
#pragma once

#include <span>
#include <string_view>

namespace depot::store {

std::span<const std::string_view> migrations();

}  // namespace depot::store
