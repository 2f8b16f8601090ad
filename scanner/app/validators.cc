// scanner/app/validators.cc — option validators that several commands share (scan, bench, --out).
#include <string>

#include "scanner/app/commands.h"
#include "scanner/dns/resolver_address.h"

namespace danescan::app {

CLI::Validator resolverValidator() {
  return CLI::Validator(
      [](std::string& value) {
        std::string error;
        return scanner::dns::ResolverAddress::parse(value, error) ? std::string() : error;
      },
      "ADDR[:PORT]");
}

CLI::Validator stdoutDash() {
  return CLI::Validator(
      [](std::string& value) {
        if (value == "-") value.clear();
        return std::string();
      },
      "");
}

}  // namespace danescan::app
