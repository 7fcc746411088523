#include "scenario/loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "scenario/sections.h"
#include "scenario/yaml-document.h"

namespace punchlab {
namespace scenario {

namespace {

// "dir/home-vs-office.yaml" -> "home-vs-office"
std::string Stem(const std::string& file_name) {
  std::string stem = file_name.substr(file_name.find_last_of('/') + 1);
  for (const char* suffix : {".yaml", ".yml"}) {
    const std::string s(suffix);
    if (stem.size() > s.size() && stem.compare(stem.size() - s.size(), s.size(), s) == 0) {
      stem.resize(stem.size() - s.size());
      break;
    }
  }
  return stem;
}

void ReadScenario(Reader& r, const Fields& top, Scenario& s) {
  s.name = r.GetText(top, "name").value_or("");
  if (!top.Has("name")) s.name = Stem(s.file);
  s.description = r.GetText(top, "description").value_or("");
  if (auto stop = r.GetDuration(top, "stop_time")) {
    s.stop_time = *stop;
    if (*stop <= Duration::Zero()) {
      r.Error(top.Own("stop_time")->mark, "stop_time must be longer than 0s; write e.g. " +
                                              FindSchemaKey(section::kTop, "stop_time")->example);
    }
  } else {
    // Keep checking times against something sensible.
    s.stop_time = Duration::Max();
  }
  s.seed = r.GetInteger(top, "seed", 0, UINT64_MAX).value_or(0);
  s.disco_log = r.GetBool(top, "disco_log").value_or(true);
  ReadTopology(r, top, s);
  ReadActivity(r, top, s);
}

}  // namespace

std::string Diagnostic::ToString() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult LoadScenarioText(std::string_view text, const std::string& file_name) {
  Reader r(file_name);
  Scenario s;
  s.file = file_name;
  try {
    if (text.size() > kMaxScenarioBytes) {
      YAML::Mark start;
      start.line = 0;
      start.column = 0;
      r.Error(start, "the file holds more than " + std::to_string(kMaxScenarioBytes) +
                         " bytes, the most a scenario file may hold (a scenario is a few KiB)");
    } else if (const YamlDocument doc = ReadOneDocument(text); doc.empty) {
      YAML::Mark start;
      start.line = 0;
      start.column = 0;
      r.Error(start, "the file holds no scenario; write at least " +
                         FindSchemaKey(section::kTop, "nodes")->example);
    } else {
      if (doc.second) {
        r.Error(*doc.second,
                "a second YAML document starts here, but a file holds one scenario; remove "
                "the '---' or split the file");
      }
      Value root;
      root.node.reset(doc.root);
      root.mark = doc.root.Mark();
      if (auto top = r.Map(root, "", section::kTop)) ReadScenario(r, *top, s);
    }
  } catch (const YAML::Exception& e) {
    // Malformed YAML (yaml-cpp stops at the first problem): its own position.
    r.Error(e.mark, "malformed YAML: " + e.msg);
  }
  LoadResult result;
  result.errors = r.TakeErrors();
  if (result.errors.empty()) result.scenario = std::move(s);
  return result;
}

LoadResult LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  // At most one byte past the cap: enough to say the file is too big without
  // reading all of it (a scenario path could name /dev/zero). Read in
  // pieces: a buffer of the cap's size would be zeroed (4 MiB) for every
  // file, a few KiB long (every matrix cell loads one).
  std::string text;
  char piece[64 << 10];
  while (in && text.size() <= kMaxScenarioBytes) {
    in.read(piece, sizeof piece);
    text.append(piece, static_cast<std::size_t>(in.gcount()));
  }
  if (text.size() > kMaxScenarioBytes + 1) text.resize(kMaxScenarioBytes + 1);
  if (!in && !in.eof()) {
    LoadResult result;
    result.errors.push_back(
        Diagnostic{path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
    return result;
  }
  return LoadScenarioText(text, path);
}

}  // namespace scenario
}  // namespace punchlab
