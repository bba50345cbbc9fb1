#pragma once
/// \file export.hpp
/// Symbol visibility for the C++ libraries (built with -fvisibility=hidden).
#if defined(_WIN32) && defined(DIFFEVENT_SHARED)
#if defined(DIFFEVENT_BUILDING)
#define DIFFEVENT_API __declspec(dllexport)
#else
#define DIFFEVENT_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define DIFFEVENT_API __attribute__((visibility("default")))
#else
#define DIFFEVENT_API
#endif
