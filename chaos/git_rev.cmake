# Writes OUT (hw_git_rev.h: HW_GIT_REV, the checkout's short revision, "unknown" outside
# one) at every build, touching it only when the revision changed, so that a report of
# hawser-sim names the commit it was built from (docs/testing.md) without a reconfigure.
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${SRC}
  OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR rev STREQUAL "")
  set(rev unknown)
endif()
set(text "#define HW_GIT_REV \"${rev}\"\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
