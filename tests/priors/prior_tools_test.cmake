# The prior tooling end to end: the Python unit tests (converter, presets), then a prior
# exported from the UNet family runs through the library's normal --prior path.
execute_process(COMMAND ${PYTHON} -B ${SRC}/tests/priors/convert_adm_test.py RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "convert_adm_test.py failed (${rc})")
endif()
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${PYTHON} -B ${SRC}/tools/priors/export_prior.py --preset xs --learn-sigma --out ${WORK}/xs_sigma.pt
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "export_prior.py failed (${rc})")
endif()
execute_process(COMMAND ${CLI} deblur --blur ${SRC}/data/sample/blur.png --events ${SRC}/data/sample/events.h5
                        --prior ${WORK}/xs_sigma.pt --residual-prior ${WORK}/xs_sigma.pt --steps 2 --out ${WORK}/out.png
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc OR NOT EXISTS ${WORK}/out.png)
  message(FATAL_ERROR "diffevent deblur with an exported UNet prior failed (${rc}): ${err}")
endif()
message(STATUS "exported UNet prior ran through diffevent deblur: ${err}")
