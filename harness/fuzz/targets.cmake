# SPDX-License-Identifier: Apache-2.0
# The fuzz-target machinery: from each fuzz/<kind>/<target>.c the build makes, per flavour,
#   <target>-repro  the standalone reproducer (every flavour; replays corpus/<target>/ in ctest)
#   <target>        the libFuzzer binary (NUB_FLAVOR=libfuzzer)
#   <target>-afl    the AFL++ persistent-mode binary (NUB_FLAVOR=afl, compiled by afl-clang-fast)
# in build/<flavour>/fuzz/, plus nub-seedgen (the seed generator) and the fuzz-replay tests.
#
# The kind is the target's folder, and nothing else declares it:
#   pure  links the engine core only (nub_core) and needs no /dev/kvm; fuzz/build.sh builds these
#         for OSS-Fuzz;
#   kvm   links libnub.a and the KVM fixture (kvm_target.c: guest paths from NUB_GUEST_DIR, host
#         functions, call invariants, the trivial-iteration line, measured against the raw-KVM
#         yardstick), depends on the guests, and also gets iteration-line-<target>; its tests are
#         labelled kvm too.
# A target's build extras, if any, are in fuzz/<kind>/<target>.cmake, included while the target
# is made (today: the input format, nub_fuzz_mutator, below). The planted bugs of NUB_PLANT_BUG=all
# are in one table, harness/fuzz/planted.cmake.
set(NUB_FUZZ_KINDS pure kvm)
set(NUB_FUZZ_DIR "${CMAKE_CURRENT_LIST_DIR}")
get_filename_component(NUB_FUZZ_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/../scripts" ABSOLUTE)
set(NUB_FUZZ_CORPUS "${CMAKE_SOURCE_DIR}/corpus")

set(NUB_PLANT_BUG "none" CACHE STRING
    "Link the planted-bug shims of harness/fuzz/planted.cmake into their targets (armed at run time by env NUB_PLANTED=<bug>): none|all")
set_property(CACHE NUB_PLANT_BUG PROPERTY STRINGS none all)
if(NOT NUB_PLANT_BUG MATCHES "^(none|all)$")
  message(FATAL_ERROR "NUB_PLANT_BUG='${NUB_PLANT_BUG}' is not one of none|all")
endif()
# The link flag of the libFuzzer-compatible engine, like OSS-Fuzz's $LIB_FUZZING_ENGINE.
set(NUB_FUZZ_ENGINE "-fsanitize=fuzzer" CACHE STRING "Fuzzing engine link flag (libfuzzer flavour)")

# The KVM targets' fixture.
add_library(nub_fuzz_kvm STATIC "${NUB_FUZZ_DIR}/kvm_target.c")
target_link_libraries(nub_fuzz_kvm PUBLIC nub_harness_kvm PRIVATE nub_flavor)
target_compile_definitions(nub_fuzz_kvm PRIVATE NUB_GUEST_DIR="${NUB_GUEST_DIR}")

# nub_planted_bug(NAME TARGET SYMBOL MODULE KIND TRIGGER TYPE HEAD ENV): one row of the table in
# harness/fuzz/planted.cmake (which describes the columns), read by nub_fuzz_target.
function(nub_planted_bug name target symbol module kind trigger type head env)
  if(NOT EXISTS "${NUB_FUZZ_DIR}/planted/${name}.c")
    message(FATAL_ERROR "planted bug ${name}: no shim harness/fuzz/planted/${name}.c")
  endif()
  set_property(GLOBAL APPEND PROPERTY NUB_PLANTED_IN_${target} ${name})
  foreach(field symbol type head env)
    set_property(GLOBAL PROPERTY NUB_PLANTED_${name}_${field} "${${field}}")
  endforeach()
endfunction()
include("${NUB_FUZZ_DIR}/planted.cmake")

# nub_fuzz_mutator(<format> <max_size>), in a fuzz/<kind>/<target>.cmake: the target's inputs are
# <format> (cmds: command streams of the `fuzz` guest; snapshot: snapshot files) of at most
# <max_size> bytes (the target's MAX_INPUT). The libFuzzer binary then links the structure-aware
# mutator (harness/fuzz/mutator.h) as its LLVMFuzzerCustomMutator, and the afl flavour builds it as
# the custom mutator library <target>-mutator.so beside <target>-afl.
macro(nub_fuzz_mutator format max_size)
  if(NOT "${format}" MATCHES "^(cmds|snapshot)$")
    message(FATAL_ERROR "nub_fuzz_mutator(${format}): the format is one of cmds|snapshot")
  endif()
  string(TOUPPER "NUB_MUT_${format}" mutator_format)
  set(mutator_max ${max_size})
endmacro()

# nub_fuzz_target(<target> <kind>): the variants above from fuzz/<kind>/<target>.c, and the tests
# replay-<target> (label fuzz-replay) and, for kvm, iteration-line-<target>.
function(nub_fuzz_target name kind)
  set(dir "${CMAKE_CURRENT_SOURCE_DIR}/${kind}")
  set(sources "${dir}/${name}.c")
  set(definitions)
  set(link_options)
  set(planted)
  set(mutator_format "")
  if(kind STREQUAL "pure")
    set(engine nub_core)
  elseif(kind STREQUAL "kvm")
    set(engine nub_fuzz_kvm nub)
  else()
    message(FATAL_ERROR "fuzz/${kind}/${name}.c: '${kind}' is not one of ${NUB_FUZZ_KINDS}")
  endif()
  if(EXISTS "${dir}/${name}.cmake")
    include("${dir}/${name}.cmake")
  endif()
  if(NUB_PLANT_BUG STREQUAL "all")
    get_property(planted GLOBAL PROPERTY NUB_PLANTED_IN_${name})
  endif()
  if(planted)
    list(APPEND sources "${NUB_FUZZ_DIR}/planted/planted.c")
    foreach(bug ${planted})
      get_property(symbol GLOBAL PROPERTY NUB_PLANTED_${bug}_symbol)
      list(APPEND sources "${NUB_FUZZ_DIR}/planted/${bug}.c")
      list(APPEND link_options "LINKER:--wrap=${symbol}")
    endforeach()
  endif()
  if(EXISTS "${dir}/seeds_${name}.c")
    set_property(GLOBAL APPEND PROPERTY NUB_FUZZ_SEED_TARGETS ${name})
    set_property(GLOBAL APPEND PROPERTY NUB_FUZZ_SEED_SOURCES "${dir}/seeds_${name}.c")
  endif()

  add_library(${name}_obj OBJECT ${sources})
  target_link_libraries(${name}_obj PRIVATE nub_harness ${engine} nub_flavor)
  target_compile_definitions(${name}_obj PRIVATE ${definitions})
  if(kind STREQUAL "kvm")
    add_dependencies(${name}_obj nub_guests) # the targets load the guests at run time
  endif()

  add_executable(${name}-repro "${NUB_FUZZ_DIR}/driver_repro.c")
  target_compile_definitions(${name}-repro PRIVATE NUB_FUZZ_TARGET_NAME="${name}")
  # Exported names let the signal handler of sanitizer-free builds name the crashing frames.
  set_target_properties(${name}-repro PROPERTIES ENABLE_EXPORTS ON)
  set(variants ${name}-repro)
  if(NUB_FLAVOR STREQUAL "libfuzzer")
    add_executable(${name} $<TARGET_OBJECTS:${name}_obj>)
    target_link_options(${name} PRIVATE ${NUB_FUZZ_ENGINE})
    list(APPEND variants ${name})
  elseif(NUB_FLAVOR STREQUAL "afl")
    add_executable(${name}-afl "${NUB_FUZZ_DIR}/driver_afl.c")
    list(APPEND variants ${name}-afl)
  endif()
  foreach(exe ${variants})
    if(NOT exe STREQUAL name)
      target_sources(${exe} PRIVATE $<TARGET_OBJECTS:${name}_obj>)
    endif()
    target_link_libraries(${exe} PRIVATE nub_harness ${engine} nub_flavor)
    target_link_options(${exe} PRIVATE ${link_options})
  endforeach()

  if(mutator_format AND NUB_FLAVOR STREQUAL "libfuzzer")
    target_sources(${name} PRIVATE "${NUB_FUZZ_DIR}/mutator_libfuzzer.c")
    target_compile_definitions(${name} PRIVATE NUB_MUTATOR_FORMAT=${mutator_format})
    target_link_libraries(${name} PRIVATE nub_fuzz_mutator)
  elseif(mutator_format AND NUB_FLAVOR STREQUAL "afl")
    # Loaded into afl-fuzz itself: plain code (AFL_NOOPT: afl-clang-fast as clang, without
    # coverage instrumentation or the AFL++ runtime), no flavour, no engine.
    add_library(${name}-mutator MODULE "${NUB_FUZZ_DIR}/mutator_afl.c"
                "${NUB_FUZZ_DIR}/mutator.c" "${NUB_FUZZ_DIR}/mutate_cmds.c"
                "${NUB_FUZZ_DIR}/mutate_snapshot.c" "${NUB_FUZZ_DIR}/fuzz_cmds_codec.c"
                "${NUB_FUZZ_DIR}/../common/snapshot_crc.c")
    set_target_properties(${name}-mutator PROPERTIES PREFIX "" C_COMPILER_LAUNCHER "env;AFL_NOOPT=1"
                          C_LINKER_LAUNCHER "env;AFL_NOOPT=1")
    target_include_directories(${name}-mutator PRIVATE "${NUB_FUZZ_DIR}" "${NUB_FUZZ_DIR}/../common")
    target_compile_definitions(${name}-mutator PRIVATE NUB_MUTATOR_FORMAT=${mutator_format}
                               NUB_MUTATOR_MAX_SIZE=${mutator_max}u)
    target_compile_options(${name}-mutator PRIVATE -O2 -g)
    target_link_libraries(${name}-mutator PRIVATE nub_harness_engine_headers nub_guest_contracts
                          nub_warnings)
    add_dependencies(${name}-afl ${name}-mutator)
  endif()

  add_test(NAME replay-${name}
           COMMAND bash "${NUB_FUZZ_SCRIPTS}/replay.sh" $<TARGET_FILE:${name}-repro>
                   "${NUB_FUZZ_CORPUS}/${name}")
  if(kind STREQUAL "kvm")
    # Real VMs: also labelled kvm; 77 means /dev/kvm could not be opened (as in harness/tests).
    set_tests_properties(replay-${name} PROPERTIES LABELS "fuzz-replay;kvm" TIMEOUT 300
                         SKIP_RETURN_CODE 77)
    # The trivial-iteration line (DESIGN §4) is printed, once, with numbers; times are not judged.
    add_test(NAME iteration-line-${name}
             COMMAND bash "${NUB_FUZZ_SCRIPTS}/iteration_line.sh"
                     $<TARGET_FILE:${name}-repro> ${name})
    set_tests_properties(iteration-line-${name} PROPERTIES LABELS "fuzz-replay;kvm" TIMEOUT 120
                         SKIP_RETURN_CODE 77)
  else()
    set_tests_properties(replay-${name} PROPERTIES LABELS "fuzz-replay" TIMEOUT 300)
  endif()

  # The planted bugs this target carries: libFuzzer must find each from the seeds within a bounded
  # number of executions, and the reproducer must give its expected signature.
  if(NUB_FLAVOR STREQUAL "libfuzzer")
    foreach(bug ${planted})
      get_property(type GLOBAL PROPERTY NUB_PLANTED_${bug}_type)
      get_property(head GLOBAL PROPERTY NUB_PLANTED_${bug}_head)
      get_property(env GLOBAL PROPERTY NUB_PLANTED_${bug}_env)
      add_test(NAME planted-bug-${bug}
               COMMAND bash "${NUB_FUZZ_SCRIPTS}/planted_check.sh" ${bug} ${name}
                       $<TARGET_FILE:${name}> $<TARGET_FILE:${name}-repro>
                       "${NUB_FUZZ_CORPUS}/${name}" "${dir}" "${type}" "${head}")
      if(kind STREQUAL "kvm")
        # On a real VM: skipped (77) without /dev/kvm.
        set_tests_properties(planted-bug-${bug} PROPERTIES LABELS "fuzz-replay;kvm" TIMEOUT 400
                             SKIP_RETURN_CODE 77)
      else()
        set_tests_properties(planted-bug-${bug} PROPERTIES LABELS "fuzz-replay" TIMEOUT 400)
      endif()
      if(env)
        set_tests_properties(planted-bug-${bug} PROPERTIES ENVIRONMENT "${env}")
      endif()
    endforeach()
  endif()
endfunction()

# nub_fuzz_seedgen(), after every nub_fuzz_target: the seed generator, from seedgen.c and the seed
# file fuzz/<kind>/seeds_<target>.c of each target that has one (seedgen_targets.h lists them for
# seedgen.c), and the check that corpus/ holds exactly what it generates. It links libnub.a: with
# /dev/kvm it also evolves guests to take real snapshots (seed-kvm-*).
function(nub_fuzz_seedgen)
  get_property(targets GLOBAL PROPERTY NUB_FUZZ_SEED_TARGETS)
  get_property(sources GLOBAL PROPERTY NUB_FUZZ_SEED_SOURCES)
  set(list "")
  foreach(t ${targets})
    string(APPEND list "SEEDGEN_TARGET(${t})\n")
  endforeach()
  file(CONFIGURE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/seedgen/seedgen_targets.h"
       CONTENT "/* The targets with a seed file, by harness/fuzz/targets.cmake. */\n${list}")
  add_executable(nub-seedgen "${NUB_FUZZ_DIR}/seedgen.c" ${sources})
  target_include_directories(nub-seedgen PRIVATE "${CMAKE_CURRENT_BINARY_DIR}/seedgen")
  target_link_libraries(nub-seedgen PRIVATE nub_harness nub nub_flavor)
  add_dependencies(nub-seedgen nub_guests)
  add_test(NAME seeds-match
           COMMAND bash "${NUB_FUZZ_SCRIPTS}/seeds.sh" check $<TARGET_FILE:nub-seedgen>
                   "${NUB_GUEST_DIR}" "${NUB_FUZZ_CORPUS}")
  set_tests_properties(seeds-match PROPERTIES LABELS "fuzz-replay" TIMEOUT 120)
  # The crash-signature rules (named invariants sign with their engine operation and check).
  add_test(NAME signature-rules COMMAND bash "${NUB_FUZZ_SCRIPTS}/signature_test.sh")
  set_tests_properties(signature-rules PROPERTIES LABELS "fuzz-replay" TIMEOUT 60)
  # `cmake --build <dir> --target fuzz-seeds` rewrites corpus/<target>/seed-* in the source tree.
  add_custom_target(fuzz-seeds
    COMMAND bash "${NUB_FUZZ_SCRIPTS}/seeds.sh" update $<TARGET_FILE:nub-seedgen>
            "${NUB_GUEST_DIR}" "${NUB_FUZZ_CORPUS}"
    DEPENDS nub-seedgen
    COMMENT "Regenerating the committed seed corpus in ${NUB_FUZZ_CORPUS}"
    VERBATIM)
endfunction()
