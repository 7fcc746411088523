#include "results/write-directory.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "results/write-csv.h"
#include "results/write-json.h"
#include "results/write-junit.h"

namespace punchlab {
namespace results {
namespace {

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

}  // namespace

void WriteResultsDirectory(const std::string& dir, const Results& results) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create directory: " + ec.message());
  const std::filesystem::path base(dir);
  WriteFile(base / "results.json", ResultsJsonText(results));
  WriteFile(base / "latency.csv", LatencyCsvText(results));
  WriteFile(base / "junit.xml", JunitXmlText(results));
}

}  // namespace results
}  // namespace punchlab
