#include "store/store_test_fixture.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace mg::store::testing {
namespace {

std::string g_reason;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    close(fd);
    return 55432;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

int Shell(const std::string& command) { return std::system(command.c_str()); }

std::string TempDir(const char* prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / prefix).string() + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

std::unique_ptr<TestPostgres>& Instance() {
  static std::unique_ptr<TestPostgres> instance;
  return instance;
}

}  // namespace

const std::string& TestPostgres::reason() { return g_reason; }

TestPostgres* TestPostgres::Get() {
  static bool tried = false;
  if (tried) return Instance().get();
  tried = true;
  std::unique_ptr<TestPostgres> pg(new TestPostgres());
  if (const char* url = std::getenv("MG_TEST_POSTGRES_URL"); url && *url) {
    pg->external_ = true;
    pg->external_url_ = url;
    Instance() = std::move(pg);
    return Instance().get();
  }
  const char* bin = std::getenv("MG_PG_BIN");
  pg->bin_ = bin && *bin ? bin : "/usr/lib/postgresql/15/bin";
  if (access((pg->bin_ + "/initdb").c_str(), X_OK) != 0 ||
      access((pg->bin_ + "/pg_ctl").c_str(), X_OK) != 0) {
    g_reason = "PostgreSQL server binaries not found in " + pg->bin_ +
               " (install the Debian package 'postgresql' or set MG_PG_BIN)";
    return nullptr;
  }
  pg->dir_ = TempDir("mg-pg-");
  if (pg->dir_.empty()) {
    g_reason = "cannot create a temporary folder for PostgreSQL";
    return nullptr;
  }
  // PostgreSQL refuses to run as root: run its tools as the postgres user,
  // which must own the folder.
  if (geteuid() == 0) {
    pg->user_prefix_ = "runuser -u postgres -- ";
    if (Shell("chown postgres " + pg->dir_) != 0) {
      g_reason = "cannot hand " + pg->dir_ + " to the postgres user";
      return nullptr;
    }
  }
  pg->port_ = FreePort();
  const std::string init = pg->user_prefix_ + pg->bin_ + "/initdb -D " + pg->dir_ +
                           "/data -U postgres -A trust --no-sync -E UTF8 >" + pg->dir_ +
                           "/initdb.log 2>&1";
  if (Shell(init) != 0) {
    g_reason = "initdb failed; see " + pg->dir_ + "/initdb.log";
    return nullptr;
  }
  if (!pg->Start()) {
    g_reason = "pg_ctl start failed; see " + pg->dir_ + "/server.log";
    return nullptr;
  }
  Instance() = std::move(pg);
  std::atexit([] { Instance().reset(); });
  return Instance().get();
}

bool TestPostgres::Start() {
  if (external_) return true;
  const std::string options = "-k " + dir_ + " -p " + std::to_string(port_) +
                              " -c listen_addresses='' -c fsync=off -c max_connections=200";
  return Shell(user_prefix_ + bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
               "/server.log -w -t 60 -o \"" + options + "\" start >/dev/null 2>&1") == 0;
}

bool TestPostgres::Stop() {
  if (external_) return false;
  return Shell(user_prefix_ + bin_ + "/pg_ctl -D " + dir_ +
               "/data -w -t 60 -m fast stop >/dev/null 2>&1") == 0;
}

TestPostgres::~TestPostgres() {
  if (external_ || dir_.empty()) return;
  Shell(user_prefix_ + bin_ + "/pg_ctl -D " + dir_ + "/data -w -m immediate stop >/dev/null 2>&1");
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string TestPostgres::NewDatabase() {
  static std::atomic<int> counter{0};
  const std::string name =
      "mg_test_" + std::to_string(getpid()) + "_" + std::to_string(counter.fetch_add(1));
  std::string admin_url;
  if (external_) {
    admin_url = external_url_;
  } else {
    admin_url =
        "postgresql:///postgres?host=" + dir_ + "&port=" + std::to_string(port_) + "&user=postgres";
  }
  auto admin = OpenConnection(admin_url);
  if (!admin.ok() || !(*admin)->ExecScript("CREATE DATABASE " + name).ok()) return {};
  if (external_) {
    // Replace the database name in an external URL: postgresql://…/DB?…
    const size_t scheme = admin_url.find("://");
    const size_t slash = admin_url.find('/', scheme + 3);
    const size_t query = admin_url.find('?', slash == std::string::npos ? 0 : slash);
    if (slash == std::string::npos) return admin_url + "/" + name;
    return admin_url.substr(0, slash + 1) + name +
           (query == std::string::npos ? "" : admin_url.substr(query));
  }
  return "postgresql:///" + name + "?host=" + dir_ + "&port=" + std::to_string(port_) +
         "&user=postgres";
}

std::string FreshDatabaseUrl(Dialect dialect) {
  if (dialect == Dialect::kPostgres) {
    TestPostgres* pg = TestPostgres::Get();
    return pg ? pg->NewDatabase() : std::string();
  }
  static const std::string dir = [] {
    std::string made = TempDir("mg-sqlite-");
    static const std::string removed_at_exit = made;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removed_at_exit, ignored);
    });
    return made;
  }();
  static std::atomic<int> counter{0};
  return "sqlite:" + dir + "/control-" + std::to_string(counter.fetch_add(1)) + ".db";
}

bool RunInProcesses(const std::string& url, int processes, int threads,
                    const std::function<int(ControlPlane&, int)>& body) {
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
      auto child = ControlPlane::Open(url, {.pool_size = threads});
      if (!child.ok()) {
        std::fprintf(stderr, "child: %s\n", child.status().ToString().c_str());
        _exit(3);
      }
      std::atomic<int> bad{0};
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] { bad += body(**child, t); });
      }
      for (std::thread& thread : pool) thread.join();
      _exit(bad.load() == 0 ? 0 : 4);
    }
    children.push_back(pid);
  }
  bool all = true;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) all = false;
  }
  return all;
}

std::string DialectName(Dialect dialect) {
  return dialect == Dialect::kPostgres ? "PostgreSQL" : "SQLite";
}

}  // namespace mg::store::testing
