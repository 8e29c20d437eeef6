// Runs the Store contract suite against MemoryStore and SqliteStore.
#include "storage/testing/store_conformance.h"

#include <memory>

#include "storage/memory_store.h"
#include "storage/sqlite_store.h"
#include "storage/testing/temp_dir.h"

namespace rekey::storage::testing {
namespace {

struct MemoryStoreFactory {
  static constexpr char kName[] = "Memory";
  absl::StatusOr<std::unique_ptr<Store>> Make() { return std::make_unique<MemoryStore>(); }
};

struct SqliteStoreFactory {
  static constexpr char kName[] = "Sqlite";
  absl::StatusOr<std::unique_ptr<Store>> Make() {
    SqliteStoreOptions options;
    options.create_if_missing = true;
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store,
                     SqliteStore::Open(dir.File("store.db"), options));
    return std::unique_ptr<Store>(std::move(store));
  }
  ScopedTempDir dir;
};

using Backends = ::testing::Types<MemoryStoreFactory, SqliteStoreFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Backends, StoreConformanceTest, Backends, FactoryName);

}  // namespace
}  // namespace rekey::storage::testing
