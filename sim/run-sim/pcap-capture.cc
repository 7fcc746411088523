#include "run-sim/pcap-capture.h"

#include <filesystem>
#include <system_error>

#include "ns3/trace-helper.h"
#include "results/run-options.h"

namespace punchlab {
namespace runsim {

std::vector<ns3::Ptr<ns3::PcapFileWrapper>> EnablePcapCapture(const ScenarioWorld& world,
                                                              const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw results::RunError("cannot create " + dir + ": " + ec.message());
  ns3::PcapHelper helper;
  std::vector<ns3::Ptr<ns3::PcapFileWrapper>> files;
  for (const WorldLink& link : world.links) {
    const std::string path = dir + "/" + link.name + ".pcap";
    ns3::Ptr<ns3::PcapFileWrapper> file =
        helper.CreateFile(path, std::ios::out, ns3::PcapHelper::DLT_RAW);
    if (file->Fail()) throw results::RunError("cannot write " + path);
    helper.HookDefaultSink<ns3::NetDevice>(link.lower, "PromiscSniffer", file);
    files.push_back(file);
  }
  return files;
}

}  // namespace runsim
}  // namespace punchlab
