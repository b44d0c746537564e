# Runs one test binary the way `bazel test` runs a cc_test: from the
# workspace root (the tests open tests/fixtures/... by relative path), with
# TEST_TMPDIR set to an empty folder of its own.
#
#   cmake -DTEST_BINARY=<binary> -DTEST_TMPDIR=<folder>
#         -DTEST_WORKING_DIRECTORY=<source root> -P run_test.cmake
foreach(var TEST_BINARY TEST_TMPDIR TEST_WORKING_DIRECTORY)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_test.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${TEST_TMPDIR}")
file(MAKE_DIRECTORY "${TEST_TMPDIR}")
set(ENV{TEST_TMPDIR} "${TEST_TMPDIR}")

execute_process(COMMAND "${TEST_BINARY}"
                WORKING_DIRECTORY "${TEST_WORKING_DIRECTORY}"
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${TEST_BINARY}: ${result}")
endif()
