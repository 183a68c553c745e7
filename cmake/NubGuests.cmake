# SPDX-License-Identifier: Apache-2.0
# The freestanding guests are their own CMake project, started with the host's flag variables unset
# so no sanitizer, coverage or fuzzer flag can reach them (guests/CMakeLists.txt also checks).
include(ExternalProject)
set(NUB_GUEST_DIR "${CMAKE_BINARY_DIR}/guests")
ExternalProject_Add(nub_guests
  SOURCE_DIR "${CMAKE_SOURCE_DIR}/guests"
  BINARY_DIR "${NUB_GUEST_DIR}"
  CMAKE_COMMAND ${CMAKE_COMMAND} -E env --unset=CFLAGS --unset=CXXFLAGS --unset=LDFLAGS
                --unset=CC --unset=CXX ${CMAKE_COMMAND}
  CMAKE_ARGS -DCMAKE_C_COMPILER=${NUB_GUEST_CC} -DNUB_ENGINE_INCLUDE=${CMAKE_SOURCE_DIR}/engine/include
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  USES_TERMINAL_BUILD OFF)
