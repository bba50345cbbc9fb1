# The prior tooling end to end: the Python unit tests (converter, presets), then a prior
# exported from the UNet family runs through the library's normal --prior path.
execute_process(COMMAND ${PYTHON} -B ${SRC}/tests/lab/priors/convert_adm_test.py RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "convert_adm_test.py failed (${rc})")
endif()
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${PYTHON} -B ${SRC}/lab/priors/export_prior.py --preset xs --learn-sigma --out ${WORK}/xs_sigma.pt
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

# The defaults sweep (lab/scripts/sweep_defaults.py) end to end on two tiny training-side photos:
# every one-at-a-time run, the combination, the table; and its refusal of held-out photos.
file(REMOVE_RECURSE ${WORK}/sweep ${WORK}/sweep_photos)
file(MAKE_DIRECTORY ${WORK}/sweep_photos ${WORK}/heldout)
file(COPY_FILE ${SRC}/data/sample/sharp.png ${WORK}/sweep_photos/a.png)
file(COPY_FILE ${SRC}/data/sample/blur.png ${WORK}/sweep_photos/b.png)
execute_process(COMMAND ${PYTHON} -B ${SRC}/lab/scripts/sweep_defaults.py --prior ${SRC}/tests/data/tiny_prior.pt
                        --residual-prior ${SRC}/tests/data/tiny_prior.pt --photos ${WORK}/sweep_photos --count 2
                        --size 32 --steps 1 --step-counts 1,2 --cli ${CLI} --out ${WORK}/sweep
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT out MATCHES "Best setting" OR NOT out MATCHES "\\| lambda_tv \\| 100.0")
  message(FATAL_ERROR "sweep_defaults.py failed (${rc}): ${out} ${err}")
endif()
file(STRINGS ${WORK}/sweep/runs.jsonl runs)
list(LENGTH runs n)
# 25 settings in 8 coordinate sweeps, of which 7 repeat the best so far (one per later
# parameter), plus the best setting at 2 steps (at 1 step it is one of them): 19 runs.
if(NOT n EQUAL 19)
  message(FATAL_ERROR "sweep_defaults.py: expected 19 runs, found ${n}")
endif()
execute_process(COMMAND ${PYTHON} -B ${SRC}/lab/scripts/sweep_defaults.py --prior ${SRC}/tests/data/tiny_prior.pt
                        --residual-prior ${SRC}/tests/data/tiny_prior.pt --photos ${WORK}/heldout --cli ${CLI}
                        --out ${WORK}/sweep_heldout RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc OR NOT err MATCHES "refusing to sweep on held-out photos")
  message(FATAL_ERROR "sweep_defaults.py accepted held-out photos (${rc}): ${err}")
endif()

# train-prior through the CLI with downscaled copies (--scales): the copies are announced, the
# prior is written; a zero factor is rejected by name.
execute_process(COMMAND ${CLI} train-prior --init ${SRC}/tests/data/tiny_prior.pt --images ${WORK}/sweep_photos
                        --out ${WORK}/scaled.pt --steps 2 --batch 2 --patch 16 --scales 1,2,4 --log-every 1
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT EXISTS ${WORK}/scaled.pt OR NOT err MATCHES "2 images and 4 downscaled copies \\(scales 1,2,4\\)")
  message(FATAL_ERROR "train-prior --scales failed (${rc}): ${out} ${err}")
endif()
execute_process(COMMAND ${CLI} train-prior --init ${SRC}/tests/data/tiny_prior.pt --images ${WORK}/sweep_photos
                        --out ${WORK}/scaled0.pt --steps 2 --scales 0 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc OR EXISTS ${WORK}/scaled0.pt OR NOT err MATCHES "--scales")
  message(FATAL_ERROR "train-prior accepted --scales 0 (${rc}): ${err}")
endif()

# The denoising check (lab/priors/denoise_check.py): a prior that predicts zero noise (the
# freshly exported UNet: its output convolution starts at zero) gains exactly nothing, so its
# column equals the noisy one; bad sigmas are named.
execute_process(COMMAND ${PYTHON} -B ${SRC}/lab/priors/export_prior.py --preset xs --out ${WORK}/xs_zero.pt RESULT_VARIABLE rc)
execute_process(COMMAND ${PYTHON} -B ${SRC}/lab/priors/denoise_check.py --prior ${WORK}/xs_zero.pt
                        --photos ${WORK}/sweep_photos --width 64 --sigmas 0.05
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc OR NOT out MATCHES "\\| 0.05 \\| 26 \\| ([0-9.]+) \\| ([0-9.]+) \\|")
  message(FATAL_ERROR "denoise_check.py failed (${rc}): ${out} ${err}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL CMAKE_MATCH_2)
  message(FATAL_ERROR "denoise_check.py: a zero-output prior changed the PSNR (${CMAKE_MATCH_1} -> ${CMAKE_MATCH_2})")
endif()
execute_process(COMMAND ${PYTHON} -B ${SRC}/lab/priors/denoise_check.py --prior ${WORK}/xs_zero.pt
                        --photos ${WORK}/sweep_photos --sigmas 0.05,2 RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc OR NOT err MATCHES "every sigma must be in \\(0, 1\\)")
  message(FATAL_ERROR "denoise_check.py accepted sigma 2 (${rc}): ${err}")
endif()
