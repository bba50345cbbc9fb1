# Writes the CLI's outputs that every binding must reproduce byte for byte:
# REF/edi.png (EDI, c = 0.2) and, with LibTorch, REF/deblur.png (analytic prior, STEPS, SEED).
file(REMOVE_RECURSE "${REF}")
file(MAKE_DIRECTORY "${REF}")
execute_process(COMMAND "${CLI}" edi --blur "${BLUR}" --events "${EVENTS}" --threshold 0.2 --out "${REF}/edi.png"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "diffevent edi failed (${rc})")
endif()
if(HAS_TORCH)
  execute_process(COMMAND "${CLI}" deblur --blur "${BLUR}" --events "${EVENTS}" --steps ${STEPS} --seed ${SEED}
                          --prior analytic --residual-prior none
                          --out "${REF}/deblur.png"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc)
    message(FATAL_ERROR "diffevent deblur failed (${rc})")
  endif()
endif()
