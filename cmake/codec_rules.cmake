# Bazel's cc_library / cc_binary / cc_test, as CMake functions, so that each
# folder's CMakeLists.txt reads like its BUILD file.
#
#   codec_cc_library(<name> [SRCS ...] [HDRS ...] [DEPS ...] [COPTS ...] [ALWAYSLINK])
#   codec_cc_binary(<name> SRCS ... [DEPS ...])
#   codec_cc_test(<name> SRCS ... [DEPS ...] [SIZE small|medium|large] [TAGS ...])
#
# DEPS are CMake target names (see codec_target_name). A library without
# SRCS is an INTERFACE library; ALWAYSLINK makes an OBJECT library, whose
# objects every direct dependent links whole (Bazel's alwayslink = 1).

# The CMake target name of //<folder>:<name> declared in the current folder:
# <folder with _ for />_<name>, or <folder with _> when name is the folder's
# last component (//backends/core:core -> backends_core).
function(codec_target_name out name)
  file(RELATIVE_PATH folder "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
  string(REPLACE "/" "_" prefix "${folder}")
  get_filename_component(last "${folder}" NAME)
  if(name STREQUAL last)
    set(${out} "${prefix}" PARENT_SCOPE)
  else()
    set(${out} "${prefix}_${name}" PARENT_SCOPE)
  endif()
endfunction()

function(codec_cc_library name)
  cmake_parse_arguments(ARG "ALWAYSLINK" "" "SRCS;HDRS;DEPS;COPTS" ${ARGN})
  codec_target_name(target "${name}")
  if(NOT ARG_SRCS)
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    return()
  endif()
  if(ARG_ALWAYSLINK)
    add_library(${target} OBJECT ${ARG_SRCS} ${ARG_HDRS})
  else()
    add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
  endif()
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  if(ARG_COPTS)
    target_compile_options(${target} PRIVATE ${ARG_COPTS})
  endif()
endfunction()

function(codec_cc_binary name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# Bazel's test timeouts (.bazelrc: --test_timeout=300,900,1800,3600) by size,
# times CODEC_TEST_TIMEOUT_SCALE for slow or shared machines (the TIMEOUT
# property wins over ctest --timeout).
set(CODEC_TEST_TIMEOUT_SCALE 1 CACHE STRING
    "Integer factor on Bazel's test timeouts (300/900/1800/3600 s for small/medium/large/enormous)")
set(CODEC_TEST_TIMEOUT_small 300)
set(CODEC_TEST_TIMEOUT_medium 900)
set(CODEC_TEST_TIMEOUT_large 1800)
set(CODEC_TEST_TIMEOUT_enormous 3600)

# One CTest test per cc_test, named tests/<folder>/<name>, run like
# `bazel test` runs it: from the workspace root, with a fresh TEST_TMPDIR
# (cmake/run_test.cmake), with the cc_test's env (ENV NAME=VALUE ...).
# Labels: the Bazel tags, the size when not medium, and the folder.
function(codec_cc_test name)
  cmake_parse_arguments(ARG "" "SIZE" "SRCS;DEPS;TAGS;ENV" ${ARGN})
  codec_target_name(target "${name}")
  file(RELATIVE_PATH folder "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT ARG_SIZE)
    set(ARG_SIZE medium)
  endif()
  add_executable(${target} ${ARG_SRCS})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})

  set(test_name "${folder}/${name}")
  add_test(NAME ${test_name}
           COMMAND ${CMAKE_COMMAND}
                   "-DTEST_BINARY=$<TARGET_FILE:${target}>"
                   "-DTEST_TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/${name}.tmp"
                   "-DTEST_WORKING_DIRECTORY=${PROJECT_SOURCE_DIR}"
                   -P "${PROJECT_SOURCE_DIR}/cmake/run_test.cmake")
  set(labels ${ARG_TAGS} ${folder})
  if(NOT ARG_SIZE STREQUAL "medium")
    list(APPEND labels ${ARG_SIZE})
  endif()
  set(environment "TEST_WORKSPACE=${PROJECT_NAME}" ${ARG_ENV})
  if(CODEC_DEPS_LIBRARY_DIR)
    list(APPEND environment "LD_LIBRARY_PATH=${CODEC_LD_LIBRARY_PATH}")
  endif()
  math(EXPR timeout "${CODEC_TEST_TIMEOUT_${ARG_SIZE}} * ${CODEC_TEST_TIMEOUT_SCALE}")
  set_tests_properties(${test_name} PROPERTIES
                       TIMEOUT ${timeout}
                       LABELS "${labels}"
                       ENVIRONMENT "${environment}")
endfunction()
