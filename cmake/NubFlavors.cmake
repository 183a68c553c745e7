# SPDX-License-Identifier: Apache-2.0
# Build flavours as INTERFACE libraries, linked PRIVATE from host targets only (never from guests).
add_library(nub_warnings INTERFACE)
target_compile_options(nub_warnings INTERFACE
  -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Wundef -Wwrite-strings
  -Wshadow -Wvla $<$<BOOL:${NUB_WERROR}>:-Werror>)

add_library(nub_flavor_release INTERFACE)
target_compile_options(nub_flavor_release INTERFACE -O2 -g)

add_library(nub_flavor_debug INTERFACE)
target_compile_options(nub_flavor_debug INTERFACE -O0 -g3)

# ASan + UBSan; any report aborts the test.
add_library(nub_flavor_asan INTERFACE)
target_compile_options(nub_flavor_asan INTERFACE -O1 -g -fno-omit-frame-pointer
  -fsanitize=address,undefined -fno-sanitize-recover=all)
target_link_options(nub_flavor_asan INTERFACE -fsanitize=address,undefined)

add_library(nub_flavor_tsan INTERFACE)
target_compile_options(nub_flavor_tsan INTERFACE -O1 -g -fno-omit-frame-pointer -fsanitize=thread)
target_link_options(nub_flavor_tsan INTERFACE -fsanitize=thread)

add_library(nub_flavor_coverage INTERFACE)
target_compile_options(nub_flavor_coverage INTERFACE -O0 -g --coverage)
target_link_options(nub_flavor_coverage INTERFACE --coverage)

# libFuzzer: ASan + UBSan + fuzzer instrumentation; the fuzzer runtime is linked by fuzz targets only.
add_library(nub_flavor_libfuzzer INTERFACE)
target_compile_options(nub_flavor_libfuzzer INTERFACE -O1 -g -fno-omit-frame-pointer
  -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all)
target_link_options(nub_flavor_libfuzzer INTERFACE -fsanitize=address,undefined)

add_library(nub_flavor_afl INTERFACE)
target_compile_options(nub_flavor_afl INTERFACE -O2 -g)

if(NOT TARGET nub_flavor_${NUB_FLAVOR})
  message(FATAL_ERROR "NUB_FLAVOR='${NUB_FLAVOR}' is not one of release|debug|asan|tsan|coverage|libfuzzer|afl")
endif()
add_library(nub_flavor INTERFACE)
target_link_libraries(nub_flavor INTERFACE nub_flavor_${NUB_FLAVOR} nub_warnings)
