# Run by `cmake --install` (install(SCRIPT)): writes diffevent/_install.py beside the installed
# Python package, so that `import diffevent` finds the C library without environment variables,
# both from PREFIX/share/diffevent/python and from a pip install of that folder.
# In: DIFFEVENT_PY_PACKAGE_DIR and DIFFEVENT_PY_LIBDIR (relative to the prefix, or absolute).
foreach(var DIFFEVENT_PY_PACKAGE_DIR DIFFEVENT_PY_LIBDIR)
  if(IS_ABSOLUTE "${${var}}")
    set(_${var} "${${var}}")
  else()
    set(_${var} "${CMAKE_INSTALL_PREFIX}/${${var}}")
  endif()
endforeach()
file(RELATIVE_PATH _relative "${_DIFFEVENT_PY_PACKAGE_DIR}" "${_DIFFEVENT_PY_LIBDIR}")
set(_file "$ENV{DESTDIR}${_DIFFEVENT_PY_PACKAGE_DIR}/_install.py")
message(STATUS "Installing: ${_file}")
file(WRITE "${_file}" "\"\"\"Where cmake --install put the C library (written at install time).\"\"\"\n"
                      "LIBDIR = \"${_DIFFEVENT_PY_LIBDIR}\"\n"
                      "RELATIVE_LIBDIR = \"${_relative}\"\n")
