// scanner/c_ptr.h — owning pointers for the C libraries the scanner uses (ldns, OpenSSL):
// CPtr<ldns_pkt, &ldns_pkt_free> frees with the library's own function. storage/ and inputs/
// have their own (their libraries are not the scanner's).
#pragma once

#include <memory>

namespace danescan::scanner {

template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

template <class T, auto Fn>
using CPtr = std::unique_ptr<T, CDeleter<Fn>>;

}  // namespace danescan::scanner
