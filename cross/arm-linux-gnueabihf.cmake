# Cross toolchain for 32-bit ARM gateways (ARMv7, hard float), using Debian's cross compiler
# and the multiarch :armhf dev packages that `scripts/bootstrap --cross armhf` installs.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

# Headers live in /usr/include (shared by all architectures); libraries and CMake package
# files under /usr/lib/arm-linux-gnueabihf. Never pick up an x86-64 library.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf /usr/lib/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_PREFIX_PATH /usr/lib/arm-linux-gnueabihf/cmake)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Tests run under qemu-user when it is installed (ctest uses this for every test command, and
# the tests that start the agent binary go through it too: see tests/CMakeLists.txt).
# With Debian multiarch the target's loader (/lib/ld-linux-armhf.so.3) and libraries are where
# the binary looks for them, so qemu needs no -L; and it must not get one where it can do
# without: under qemu 7.2 with -L, a guest fork() spins forever in the child.
find_program(DEPOT_QEMU_ARM qemu-arm)
if(DEPOT_QEMU_ARM)
  if(EXISTS /lib/ld-linux-armhf.so.3)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${DEPOT_QEMU_ARM})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${DEPOT_QEMU_ARM} -L /usr/arm-linux-gnueabihf)
  endif()
endif()
