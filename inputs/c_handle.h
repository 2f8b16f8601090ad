// inputs/c_handle.h — owns nothing itself: the deleter type that lets std::unique_ptr own the C
// handles of this module (zlib's gzFile, buffers malloc'd by libidn2).
#pragma once

#include <memory>

namespace danescan::inputs {

// The deleter lives in the type, so a handle cannot be freed with the wrong function.
template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Fn(p);
  }
};

}  // namespace danescan::inputs
