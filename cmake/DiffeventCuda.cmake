# CUDA: our kernels (lib/kernels/<op>/*.cu) compile with nvcc whenever it is found, even against a
# CPU-only LibTorch (so CI keeps them compiling); the library uses them (DIFFEVENT_HAVE_CUDA)
# when LibTorch also has CUDA. Sets DIFFEVENT_CUDA_KERNELS (compile) and DIFFEVENT_CUDA
# (compile and use).
set(DIFFEVENT_CUDA_KERNELS OFF)
set(DIFFEVENT_CUDA OFF)
if(NOT DIFFEVENT_WITH_CUDA STREQUAL "OFF" AND DIFFEVENT_WITH_TORCH)  # the kernels serve the sampler
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Ampere and Hopper (H100/H200); override with -DCMAKE_CUDA_ARCHITECTURES=...
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    if(CCACHE_PROGRAM)
      set(CMAKE_CUDA_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
    endif()
    set(DIFFEVENT_CUDA_KERNELS ON)
  endif()
  # LibTorch's CUDA half: its targets exist only in CUDA builds.
  set(_torch_cuda OFF)
  if(DIFFEVENT_WITH_TORCH AND TARGET c10_cuda)
    set(_torch_cuda ON)
  endif()
  if(DIFFEVENT_CUDA_KERNELS AND _torch_cuda)
    set(DIFFEVENT_CUDA ON)
  endif()
  if(DIFFEVENT_WITH_CUDA STREQUAL "ON" AND NOT DIFFEVENT_CUDA)
    message(FATAL_ERROR "DIFFEVENT_WITH_CUDA=ON needs nvcc (found: ${DIFFEVENT_CUDA_KERNELS}) and a CUDA-enabled "
                        "LibTorch (found: ${_torch_cuda}); use AUTO to build without them")
  endif()
endif()
message(STATUS "diffevent CUDA kernels: compiled ${DIFFEVENT_CUDA_KERNELS}, used ${DIFFEVENT_CUDA}")
