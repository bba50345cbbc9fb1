# Run by `cmake --install` (install(SCRIPT)): writes diffevent/_install.py beside the installed
# Python package, so that `import diffevent` finds the C library without environment variables,
# both from PREFIX/share/diffevent/python and from a pip install of that folder.
# Then, with a Python interpreter, the package as a wheel beside it (make_wheel.py).
# In: DIFFEVENT_PY_PACKAGE_DIR and DIFFEVENT_PY_LIBDIR (relative to the prefix, or absolute),
# DIFFEVENT_PY_INTERPRETER (may be empty), DIFFEVENT_PY_WHEEL_SCRIPT, DIFFEVENT_PY_VERSION.
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
get_filename_component(_python_dir "${_file}" DIRECTORY)
get_filename_component(_python_dir "${_python_dir}" DIRECTORY)
if(DIFFEVENT_PY_INTERPRETER)
  execute_process(COMMAND "${DIFFEVENT_PY_INTERPRETER}" "${DIFFEVENT_PY_WHEEL_SCRIPT}" "${_python_dir}/diffevent"
                          "${_python_dir}/README.md" "${_python_dir}" "${DIFFEVENT_PY_VERSION}" RESULT_VARIABLE _rc)
  if(_rc)
    message(FATAL_ERROR "writing the Python wheel failed (${_rc})")
  endif()
else()
  message(STATUS "No Python interpreter: the Python wheel is not written (pip can install ${_python_dir} instead)")
endif()
