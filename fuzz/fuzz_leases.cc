// libFuzzer target: any bytes as a dhcpd.leases file. Reading never fails
// hard; writing what was read and reading that again gives no diagnostic and
// the same contents, up to the writer's documented omissions (writtenForm).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "common/diag.h"
#include "conf/lease_reader.h"
#include "conf/lease_writer.h"

namespace {

using namespace tandem;

void check(bool ok) {
    if (!ok) std::abort();
}

std::string stateName(const std::string& s) { return s.empty() ? "unknown-state" : s; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    common::DiagnosticSink sink(1000);
    conf::LeaseReadOptions ro;
    ro.now = 1795338494;
    conf::LeaseFileContents first = conf::readLeases(text, "fuzz.leases", sink, ro);

    conf::LeaseWriterOptions wo;
    wo.now = ro.now;
    wo.hexLeaseIds = size % 2;  // both lease-id formats
    conf::LeaseWriter writer(wo);
    std::string out;
    writer.file(out, first);

    common::DiagnosticSink sink2(1000);
    conf::LeaseFileContents second = conf::readLeases(out, "rewritten.leases", sink2, ro);
    check(sink2.all().empty());
    check(!second.torn && second.superseded == 0 && second.dropped == 0);

    check(second.leases.size() == first.leases.size());
    for (std::size_t i = 0; i < first.leases.size(); ++i)
        check(second.leases[i] == conf::writtenForm(first.leases[i], wo));

    check(second.failoverStates.size() == first.failoverStates.size());
    for (std::size_t i = 0; i < first.failoverStates.size(); ++i) {
        const auto& a = first.failoverStates[i];
        const auto& b = second.failoverStates[i];
        check(a.name == b.name && stateName(a.myState) == b.myState && stateName(a.partnerState) == b.partnerState);
        check(a.myStateTime == b.myStateTime && a.partnerStateTime == b.partnerStateTime && a.mclt == b.mclt);
    }

    // Hosts are rewritten deleted ones first, so compare by name.
    check(second.hosts.size() == first.hosts.size());
    std::map<std::string, const conf::LeaseFileHost*> hosts;
    for (const auto& h : first.hosts) hosts[h.name] = &h;
    for (const auto& h : second.hosts) {
        auto it = hosts.find(h.name);
        check(it != hosts.end());
        const conf::LeaseFileHost& a = *it->second;
        check(a.text == h.text && a.dynamic == h.dynamic && a.deleted == h.deleted && a.hw == h.hw &&
              a.uid == h.uid && a.fixedAddresses == h.fixedAddresses && a.group == h.group &&
              a.statements == h.statements);
    }
    check(second.classes.size() == first.classes.size());
    for (std::size_t i = 0; i < first.classes.size(); ++i) {
        const auto& a = first.classes[i];
        const auto& b = second.classes[i];
        check(a.text == b.text && a.subclass == b.subclass && a.name == b.name && a.data == b.data &&
              a.leaseLimit == b.leaseLimit && a.statements == b.statements);
    }
    check(second.groups.size() == first.groups.size());
    for (std::size_t i = 0; i < first.groups.size(); ++i) check(first.groups[i].text == second.groups[i].text);
    check(first.serverDuid == second.serverDuid);

    // And the rewrite is a fixed point.
    std::string again;
    conf::LeaseWriter writer2(wo);
    writer2.file(again, second);
    check(again == out);
    return 0;
}
