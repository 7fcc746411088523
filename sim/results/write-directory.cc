#include "results/write-directory.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "results/write-csv.h"
#include "results/write-disco-csv.h"
#include "results/write-json.h"
#include "results/write-junit.h"

namespace punchlab {
namespace results {
void WriteTextFile(const std::string& path, const std::string& text) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) {
      throw std::runtime_error(p.parent_path().string() +
                               ": cannot create directory: " + ec.message());
    }
  }
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path + ": cannot write");
}

void WriteResultsDirectory(const std::string& dir, const Results& results) {
  const std::filesystem::path base(dir);
  WriteTextFile((base / "results.json").string(), ResultsJsonText(results));
  WriteTextFile((base / "latency.csv").string(), LatencyCsvText(results));
  WriteTextFile((base / "disco.csv").string(), DiscoCsvText(results));
  WriteTextFile((base / "junit.xml").string(), JunitXmlText(results));
}

}  // namespace results
}  // namespace punchlab
