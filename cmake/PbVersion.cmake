# PB_VERSION: the version the tool reports (--version, run records, the daemon's status and
# build_info). Built from a git checkout of this tree it is `git describe --always --dirty`,
# read at configure time: a tag v1.2.3 (or 1.2.3) gives "1.2.3" or "1.2.3-4-gabc1234[-dirty]"; without a
# tag the project version leads ("0.1.0-gabc1234[-dirty]"). Anywhere else (a tarball, no git)
# it is the project version. A commit or checkout re-runs the configure step.
set(PB_VERSION ${PROJECT_VERSION})
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --show-toplevel --git-dir
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE pb_git_info ERROR_QUIET
    RESULT_VARIABLE pb_git_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REPLACE "\n" ";" pb_git_info "${pb_git_info}")
  list(LENGTH pb_git_info pb_git_n)
  if(pb_git_rc EQUAL 0 AND pb_git_n EQUAL 2)
    list(GET pb_git_info 0 pb_git_top)
    list(GET pb_git_info 1 pb_git_dir)
    get_filename_component(pb_git_top "${pb_git_top}" REALPATH)
    get_filename_component(pb_src_real "${CMAKE_SOURCE_DIR}" REALPATH)
  endif()
  # Only this tree's own repository: not one that merely contains an unpacked tarball.
  if(DEFINED pb_git_top AND pb_git_top STREQUAL pb_src_real)
    execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE pb_describe ERROR_QUIET
      RESULT_VARIABLE pb_git_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(pb_git_rc EQUAL 0 AND pb_describe MATCHES "^v?([0-9]+\\.[0-9].*)$")
      set(PB_VERSION ${CMAKE_MATCH_1})
    elseif(pb_git_rc EQUAL 0 AND pb_describe)
      set(PB_VERSION "${PROJECT_VERSION}-g${pb_describe}")
    endif()
    if(NOT IS_ABSOLUTE "${pb_git_dir}")
      set(pb_git_dir "${CMAKE_SOURCE_DIR}/${pb_git_dir}")
    endif()
    # HEAD changes on checkout, logs/HEAD on every commit, reset and checkout, the index on add.
    foreach(f HEAD logs/HEAD index)
      if(EXISTS "${pb_git_dir}/${f}")
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${pb_git_dir}/${f}")
      endif()
    endforeach()
  endif()
endif()
message(STATUS "probebench version: ${PB_VERSION}")
# Run records and comparisons keep it in char[32].
string(LENGTH "${PB_VERSION}" pb_len)
if(pb_len GREATER 31)
  string(SUBSTRING "${PB_VERSION}" 0 31 PB_VERSION)
  message(WARNING "version cut to 31 characters: ${PB_VERSION}")
endif()
