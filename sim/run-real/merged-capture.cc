#include "run-real/merged-capture.h"

#include <filesystem>

#include "files/read-whole-file.h"
#include "lab/command.h"
#include "lab/lab-error.h"
#include "results/key-log.h"

namespace punchlab::runreal {
namespace {

// dumpcap, mergecap and editcap on a long run's captures.
constexpr Duration kToolTimeout = Duration::Seconds(120);

std::string BoxText(const BoxPlan& b) {
  return std::string(b.is_nat ? "nat " : "firewall ") + b.name;
}

void Run(const std::vector<std::string>& argv, const std::string& input = "") {
  lab::CommandOptions options;
  options.timeout = kToolTimeout;
  options.input = input;
  lab::RunCommand(argv, options);
}

}  // namespace

std::string CaptureDescription(const LabPlan& plan, const Uplink& link) {
  std::string what = link.label;
  for (const auto* boxes : {&plan.nats, &plan.firewalls}) {
    for (const BoxPlan& b : *boxes) {
      if (&b.uplink == &link) what = BoxText(b) + "'s outside";
    }
  }
  for (const HostPlan& h : plan.nodes) {
    if (&h.uplink == &link) what = "node " + h.name;
  }
  for (const HostPlan& h : plan.derp) {
    if (&h.uplink == &link) what = "DERP region " + h.name;
  }
  if (&plan.control.uplink == &link) what = "control server";
  std::string where = "on the internet";
  if (!link.to_internet) {
    where = "inside " + link.parent_ns;
    for (const auto* boxes : {&plan.nats, &plan.firewalls}) {
      for (const BoxPlan& b : *boxes) {
        if (b.ns == link.parent_ns) where = "inside " + BoxText(b);
      }
    }
  }
  return what + " (" + link.ifname + " " + link.address + "), " + where;
}

std::string MergeCaptures(const LabPlan& plan, const std::string& dir) {
  const std::string work = dir + "/merge.tmp";
  std::error_code ignored;
  try {
    std::filesystem::create_directories(work);
    // -I none: every file's interface stays its own (the default may merge
    // interfaces it finds alike, and then a link loses its name).
    std::vector<std::string> argv = {"mergecap", "-I", "none", "-w", work + "/merged.pcapng"};
    for (const Uplink* u : plan.Uplinks()) {
      const std::string named = work + "/" + u->label + ".pcapng";
      // dumpcap reads the pcap as a pipe capture and names its interface.
      Run({"dumpcap", "-q", "-i", "-", "--ifname", u->label, "--ifdescr",
           CaptureDescription(plan, *u), "-w", named},
          files::ReadWholeFile(dir + "/" + u->label + ".pcap").value_or(""));
      argv.push_back(named);
    }
    Run(argv);
    const std::string keys = dir + "/" + results::kTlsKeyLogFile;
    const std::string out = dir + "/" + kMergedCaptureFile;
    if (std::filesystem::file_size(keys, ignored) > 0 && !ignored) {
      Run({"editcap", "--inject-secrets", "tls," + keys, work + "/merged.pcapng", out});
    } else {
      std::filesystem::rename(work + "/merged.pcapng", out);
    }
  } catch (const lab::LabError& e) {
    std::filesystem::remove_all(work, ignored);
    return e.what();
  } catch (const std::filesystem::filesystem_error& e) {
    std::filesystem::remove_all(work, ignored);
    return e.what();
  }
  std::filesystem::remove_all(work, ignored);
  return "";
}

}  // namespace punchlab::runreal
