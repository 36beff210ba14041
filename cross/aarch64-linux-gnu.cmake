# Cross toolchain for 64-bit ARM gateways, using Debian's cross compiler and the multiarch
# :arm64 dev packages that `scripts/bootstrap --cross aarch64` installs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Headers live in /usr/include (shared by all architectures); libraries and CMake package
# files under /usr/lib/aarch64-linux-gnu. Never pick up an x86-64 library.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_PREFIX_PATH /usr/lib/aarch64-linux-gnu/cmake)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Tests run under qemu-user when it is installed (ctest uses this for every test command, and
# the tests that start the agent binary go through it too: see tests/CMakeLists.txt).
# With Debian multiarch the target's loader (/lib/ld-linux-aarch64.so.1) and libraries are where
# the binary looks for them, so qemu needs no -L; and it must not get one where it can do
# without: under qemu 7.2 with -L, a guest fork() spins forever in the child.
find_program(DEPOT_QEMU_AARCH64 qemu-aarch64)
if(DEPOT_QEMU_AARCH64)
  if(EXISTS /lib/ld-linux-aarch64.so.1)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${DEPOT_QEMU_AARCH64})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${DEPOT_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
  endif()
endif()
