# Cross toolchain for 32-bit ARM gateways (ARMv7, hard float): Debian's cross compiler
# (g++-arm-linux-gnueabihf, with its own libc and libstdc++ under /usr/arm-linux-gnueabihf)
# and a link sysroot of the target's libraries built by `cross/sysroot armhf` (which
# `scripts/bootstrap --cross armhf` runs). Why a sysroot and not multiarch: see cross/sysroot.
# The sysroot is DEPOT_ARMHF_SYSROOT (environment) or /opt/depot-agent/sysroot/armhf.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

if(DEFINED ENV{DEPOT_ARMHF_SYSROOT})
  set(DEPOT_ARMHF_SYSROOT "$ENV{DEPOT_ARMHF_SYSROOT}")
else()
  set(DEPOT_ARMHF_SYSROOT /opt/depot-agent/sysroot/armhf)
endif()
if(NOT EXISTS "${DEPOT_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf")
  message(FATAL_ERROR "no armhf sysroot in ${DEPOT_ARMHF_SYSROOT}: run scripts/bootstrap --cross armhf")
endif()
set(_lib "${DEPOT_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf")

# The sysroot's headers (OpenSSL's per-architecture configuration.h among them) come before
# the architecture-independent ones in /usr/include (Boost, nlohmann/json) that the cross
# compiler searches last. -Wno-psabi: GCC's notes that the ARM calling convention of some
# std::map iterators changed in GCC 7.1 (irrelevant: everything is built by GCC 12).
set(CMAKE_CXX_FLAGS_INIT
    "-Wno-psabi -isystem ${DEPOT_ARMHF_SYSROOT}/usr/include/arm-linux-gnueabihf -isystem ${DEPOT_ARMHF_SYSROOT}/usr/include")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${_lib} -Wl,-rpath-link,${_lib}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-L${_lib} -Wl,-rpath-link,${_lib}")

# Libraries and package files only from the sysroot and the cross toolchain: never an x86-64
# library. Header-only packages (Boost, nlohmann/json) may come from the host.
set(CMAKE_FIND_ROOT_PATH "${DEPOT_ARMHF_SYSROOT}" /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_PREFIX_PATH /usr/lib/arm-linux-gnueabihf/cmake)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${DEPOT_ARMHF_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR} "${_lib}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Tests run under qemu-user when it is installed, with the cross toolchain's loader and
# libraries (-L) and the sysroot's (LD_LIBRARY_PATH). CI builds the armhf agent only.
find_program(DEPOT_QEMU_ARM qemu-arm)
if(DEPOT_QEMU_ARM)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${DEPOT_QEMU_ARM} -L /usr/arm-linux-gnueabihf -E
      LD_LIBRARY_PATH=${_lib})
endif()
