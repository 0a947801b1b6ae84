# Included by the top-level CMakeLists.txt when PORTICO_FUZZ is on: the libFuzzer targets and
# the few product sources they exercise, nothing else of the product.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "PORTICO_FUZZ needs clang: configure with -DCMAKE_CXX_COMPILER=clang++-14")
endif()

# Every object is instrumented for coverage (fuzzer-no-link) and checked by ASan and UBSan; a
# UBSan report aborts, so the fuzzer keeps the input. -O1 with line tables: fast enough to fuzz,
# quick to build, and reports that name file and line.
# -fno-sanitize=function: clang 14 cannot assemble coroutine code built with both the coverage
# instrumentation and UBSan's function check ("Cannot represent a difference across sections").
add_compile_options(-O1 -gline-tables-only -fno-omit-frame-pointer
                    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                    -fno-sanitize-recover=undefined)
# clang (not g++) warns of aggregates initialised without their trailing members, which the
# product writes on purpose ({Step::end}).
add_compile_options(-Wno-missing-field-initializers)
add_link_options(-fsanitize=address,undefined)

set(PORTICO_TESTS OFF)
add_subdirectory(src/core)
add_subdirectory(fuzz)
