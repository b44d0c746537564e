#ifndef BENCH_MACHINE_H_
#define BENCH_MACHINE_H_

#include <string>

namespace codec::bench {

// What a benchmark table must say about where it ran: the CPU model and
// core count, and the BLAS library libtorch loaded. Debian's libtorch calls
// the system libblas.so.3, which is the slow reference BLAS unless
// OpenBLAS provides it (by update-alternatives or LD_LIBRARY_PATH), so the
// same binary differs several-fold in speed between the two.
std::string MachineSummary();

}  // namespace codec::bench

#endif  // BENCH_MACHINE_H_
