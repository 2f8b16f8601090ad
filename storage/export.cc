// storage/export.cc — DomainRecord -> the contract's JSON object (field for field, in the
// contract's order), and the CSV rows. The field names here are a public interface: see
// ../shared/contract/export-jsonl.md before touching one.
#include "storage/export.h"

#include <memory>

#include "storage/json.h"
#include "storage/reader.h"

namespace danescan::storage {
namespace {

void stringArray(json::Writer& w, const std::vector<std::string>& list) {
  w.beginArray();
  for (const auto& s : list) w.value(s);
  w.endArray();
}

// The run to export: the one asked for, or the latest.
std::unique_ptr<Reader> openRun(const std::string& db_path, std::optional<int64_t>& run, std::string& error) {
  auto reader = Reader::open(db_path, error);
  if (!reader) return nullptr;
  std::string read_error;
  const auto summary = reader->run(run, read_error);
  if (!read_error.empty()) {
    error = db_path + ": " + read_error;
    return nullptr;
  }
  if (!summary) {
    error = db_path + (run ? ": no run " + std::to_string(*run) : std::string(": no scan run in the database"));
    return nullptr;
  }
  run = summary->id;
  return reader;
}

// RFC 4180: quote a field that holds a comma, a quote or a line break; double inner quotes.
void csvField(std::string& line, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    line.append(field);
    return;
  }
  line.push_back('"');
  for (char c : field) {
    if (c == '"') line.push_back('"');
    line.push_back(c);
  }
  line.push_back('"');
}

// The contract's delivery object, null for no-mail.
void deliveryObject(json::Writer& w, const std::optional<DeliveryRecord>& delivery) {
  if (!delivery) {
    w.null();
    return;
  }
  w.beginObject();
  w.key("rfc7672").value(delivery->rfc7672);
  w.key("postfix").value(delivery->postfix);
  w.endObject();
}

}  // namespace

std::string domainJson(const DomainRecord& d) {
  std::string out;
  out.reserve(512);
  json::Writer w(out);
  w.beginObject();
  w.key("domain").value(d.domain);
  w.key("verdict").value(d.verdict);
  w.key("mx_rcode").value(d.mx_rcode);
  w.key("mx_secure").value(d.mx_secure);
  w.key("implicit_mx").value(d.implicit_mx);
  w.key("mx").beginArray();
  for (const auto& h : d.mx) {
    w.beginObject();
    w.key("host").value(h.host);
    w.key("preference").value(int64_t{h.preference});
    w.key("cname_chain");
    stringArray(w, h.cname_chain);
    w.key("addr_rcode").value(h.addr_rcode);
    w.key("addr_secure").value(h.addr_secure);
    w.key("cname_rcode").value(h.cname_rcode);
    w.key("addresses");
    stringArray(w, h.addresses);
    w.key("tlsa_base").value(h.tlsa_base);
    w.key("tlsa_rcode").value(h.tlsa_rcode);
    w.key("tlsa");
    stringArray(w, h.tlsa);
    w.key("dane").value(h.dane);
    w.key("probes").beginArray();
    for (const auto& p : h.probes) {
      w.beginObject();
      w.key("address").value(p.address);
      w.key("connected").value(p.connected);
      w.key("starttls").value(p.starttls);
      w.key("tls_ok").value(p.tls_ok);
      w.key("dane").value(p.dane);
      w.key("matched").value(p.matched);
      w.key("error").value(p.error);
      w.endObject();
    }
    w.endArray();
    w.endObject();
  }
  w.endArray();
  w.key("findings");
  stringArray(w, d.findings);
  w.key("delivery");
  deliveryObject(w, d.delivery);
  w.endObject();
  return out;
}

bool exportJsonl(const std::string& db_path, std::ostream& out, std::string& error, std::optional<int64_t> run) {
  auto reader = openRun(db_path, run, error);
  if (!reader) return false;
  std::string line;
  const bool read = reader->forEachDomain(
      *run, Reader::Detail::Contract,
      [&](const DomainRecord& d) {
        line = domainJson(d);
        line.push_back('\n');
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
      },
      error);
  if (!read) return false;
  out.flush();
  if (!out) {
    error = "writing the export failed";
    return false;
  }
  return true;
}

bool exportCsv(const std::string& db_path, std::ostream& out, std::string& error, std::optional<int64_t> run) {
  auto reader = openRun(db_path, run, error);
  if (!reader) return false;
  out << "domain,verdict,mx_rcode,mx_secure,implicit_mx,hosts,findings\n";
  std::string line;
  const bool read = reader->forEachDomainRow(
      *run,
      [&](const Reader::DomainRow& r) {
        line.clear();
        csvField(line, r.domain);
        line += ',';
        csvField(line, r.verdict);
        line += ',';
        csvField(line, r.mx_rcode);
        line += r.mx_secure ? ",true" : ",false";
        line += r.implicit_mx ? ",true," : ",false,";
        line += std::to_string(r.hosts);
        line += ',';
        std::string joined;
        for (size_t i = 0; i < r.findings.size(); ++i) {
          if (i) joined += ';';
          joined += r.findings[i];
        }
        csvField(line, joined);
        line += "\n";
        out.write(line.data(), static_cast<std::streamsize>(line.size()));
      },
      error);
  if (!read) return false;
  out.flush();
  if (!out) {
    error = "writing the export failed";
    return false;
  }
  return true;
}

}  // namespace danescan::storage
