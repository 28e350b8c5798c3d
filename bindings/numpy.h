// Zero-copy hand-off of engine buffers to numpy: the array views the C++ storage, and a capsule
// owning that storage is the array's base, freed when the last view dies.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <memory>
#include <vector>

namespace cadence::bindings {

// Read-only numpy views in: a 1-D / 2-D C-contiguous array on the CPU, no copy.
template <class T>
using Column = nanobind::ndarray<const T, nanobind::ndim<1>, nanobind::c_contig, nanobind::device::cpu>;
template <class T>
using Matrix = nanobind::ndarray<const T, nanobind::ndim<2>, nanobind::c_contig, nanobind::device::cpu>;

// An array of `shape` over `v`'s elements (moved, not copied); the shape's product must be v.size().
template <class T>
nanobind::object to_numpy(std::vector<T>&& v, std::initializer_list<std::size_t> shape) {
  auto* owned = new std::vector<T>(std::move(v));
  nanobind::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nanobind::cast(nanobind::ndarray<nanobind::numpy, T>(owned->data(), shape.size(), shape.begin(), owner));
}

// A 1-D array over `v`'s elements (moved, not copied).
template <class T>
nanobind::object to_numpy(std::vector<T>&& v) {
  const std::size_t n = v.size();
  return to_numpy(std::move(v), {n});
}

// An array of `shape` over data that lives inside `holder` (e.g. a struct with a vector member).
template <class T, class Holder>
nanobind::object to_numpy(std::unique_ptr<Holder> holder, T* data, std::initializer_list<std::size_t> shape) {
  Holder* raw = holder.release();
  nanobind::capsule owner(raw, [](void* p) noexcept { delete static_cast<Holder*>(p); });
  std::vector<std::size_t> dims(shape);
  return nanobind::cast(nanobind::ndarray<nanobind::numpy, T>(data, dims.size(), dims.data(), owner));
}

}  // namespace cadence::bindings
