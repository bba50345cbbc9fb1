"""Unit tests of the Python binding (run by ctest's packaging_python from a pip install of the package)."""
import os
import threading
import unittest

import numpy as np

import diffevent as de


class BindingTest(unittest.TestCase):
    def test_package_and_library_versions_agree(self):
        self.assertTrue(de.version().startswith(de.__version__), f"{de.version()} vs {de.__version__}")

    def test_image_round_trips_numpy_and_psnr_is_analytic(self):
        a = (np.arange(24, dtype=np.float32) / 30).reshape(2, 3, 4)
        img = de.Image.from_numpy(a)
        self.assertEqual(img.shape, (2, 3, 4))
        np.testing.assert_array_equal(img.to_numpy(), a)
        # MSE 0.01 -> PSNR 20 dB.
        self.assertAlmostEqual(de.psnr(img, de.Image.from_numpy(a + 0.1)), 20.0, places=4)

    def test_events_round_trip_and_errors_name_the_problem(self):
        t, x, y, p = [1, 5, 9], [0, 3, 1], [2, 0, 1], [1, 0, 1]
        ev = de.Events.from_arrays(4, 3, t, x, y, p)
        self.assertEqual(len(ev), 3)
        # Arrays state no threshold (files may: info's threshold_pos/_neg, 0 when absent).
        self.assertEqual((ev.info()["threshold_pos"], ev.info()["threshold_neg"]), (0.0, 0.0))
        t2, x2, y2, p2 = ev.arrays()
        np.testing.assert_array_equal(t2, t)
        np.testing.assert_array_equal(p2, [1, -1, 1])
        # Structured arrays (Tonic's x, y, t, p; dv-processing's timestamp and polarity).
        s = ev.to_numpy()
        self.assertEqual(s.dtype, de.EVENT_DTYPE)
        np.testing.assert_array_equal(s["t"], t)
        np.testing.assert_array_equal(s["x"], x)
        np.testing.assert_array_equal(s["p"], [1, 0, 1])
        np.testing.assert_array_equal(de.Events.from_numpy(s, 4, 3).to_numpy(), s)
        dv = np.zeros(3, np.dtype([("timestamp", "<i8"), ("x", "<i2"), ("y", "<i2"), ("polarity", "?")]))
        dv["timestamp"], dv["x"], dv["y"], dv["polarity"] = t, x, y, [True, False, True]
        np.testing.assert_array_equal(de.Events.from_numpy(dv, 4, 3).to_numpy(), s)
        self.assertEqual(de.Events.from_numpy(dv, 4, 3).size, (4, 3))
        with self.assertRaisesRegex(ValueError, "fields x, y, t, p"):
            de.Events.from_numpy(np.zeros((3, 4)), 4, 3)
        with self.assertRaisesRegex(de.DiffeventError, "index 1"):
            de.Events.from_arrays(4, 3, [5, 1], [0, 0], [0, 0], [1, 1])
        with self.assertRaises(de.DiffeventError) as cm:
            de.Events.read("/nonexistent/events.h5")
        self.assertEqual(cm.exception.status, 2)
        self.assertIn("/nonexistent/events.h5", str(cm.exception))
        with self.assertRaisesRegex(TypeError, "unknown option 'bogus'"):
            de.deblur(de.Image.from_numpy(np.zeros((8, 8))), ev, bogus=1)

    def test_a_hosts_limits_refuse_large_files_by_name(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            pfm = os.path.join(d, "img.pfm")
            de.Image.from_numpy(np.zeros((5, 7), dtype=np.float32)).write(pfm)
            self.assertEqual(de.Image.read(pfm, max_pixels=35, max_side=7).shape, (1, 5, 7))
            with self.assertRaisesRegex(de.DiffeventError, "beyond the reader's limits"):
                de.Image.read(pfm, max_side=6)
            with self.assertRaisesRegex(de.DiffeventError, "beyond the reader's limits"):
                de.Image.read(pfm, max_pixels=34)
            ev = os.path.join(d, "e.npy")
            np.save(ev, np.array([[1e-6, 0, 0, 1], [2e-6, 1, 1, 0], [3e-6, 2, 1, 1]]))
            self.assertEqual(len(de.Events.read(ev, max_events=3)), 3)
            with self.assertRaisesRegex(de.DiffeventError, "more than 2 events"):
                de.Events.read(ev, max_events=2)

    def test_threshold_search_takes_its_interval(self):
        rng = np.random.default_rng(1)
        img = de.Image.from_numpy(rng.uniform(0.2, 0.8, (16, 16)))
        n = 400
        t = np.sort(rng.integers(0, 1000, n))
        ev = de.Events.from_arrays(16, 16, t, rng.integers(0, 16, n), rng.integers(0, 16, n), rng.integers(0, 2, n))
        default = de.estimate_threshold(img, ev, exposure=(0, 1000))
        self.assertEqual(default["interval"], (0.05, 4.0))
        narrow = de.estimate_threshold(img, ev, exposure=(0, 1000), interval=(0.3, 0.6))
        self.assertEqual(narrow["interval"], (0.3, 0.6))
        self.assertTrue(0.3 <= narrow["c"] <= 0.6, narrow)
        with self.assertRaisesRegex(de.DiffeventError, "threshold search interval"):
            de.estimate_threshold(img, ev, exposure=(0, 1000), interval=(0.6, 0.3))

    def test_sensor_threshold_of_the_bundled_sample(self):
        # data/sample: simulated at 0.2, every pixel starting at its reference.
        sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "data", "sample")
        img = de.Image.read(os.path.join(sample, "blur.png"))
        ev = de.Events.read(os.path.join(sample, "events.h5"))
        est = de.estimate_sensor_threshold(img, ev, reference_at_start=True)
        self.assertAlmostEqual(est["c"], 0.2, delta=0.03)
        self.assertGreater(est["pixels"], 50)
        self.assertEqual(est["pixels_pos"] + est["pixels_neg"], est["pixels"])
        self.assertAlmostEqual(est["c_pos"] / est["c_neg"], 1.0, delta=0.2)  # one threshold for both
        self.assertFalse(est["at_bound"])
        with self.assertRaisesRegex(de.DiffeventError, "sensor threshold: only"):
            de.estimate_sensor_threshold(img, ev, exposure=(0, 50))

    @unittest.skipUnless(de.has_torch(), "library built without LibTorch")
    def test_progress_and_context_cancel(self):
        img = de.Image.from_numpy(np.full((64, 64), 0.5))
        ev = de.Events.from_arrays(64, 64, [10, 20], [1, 2], [1, 2], [1, 0])
        # A callback returning True cancels.
        with self.assertRaises(de.DiffeventError) as cm:
            de.deblur(img, ev, steps=20, start=1.0, exposure=(0, 30), progress=lambda done, total: done >= 3,
                      x_prior="analytic")
        self.assertEqual(cm.exception.status, 6)
        # An exception in the callback cancels and comes back to the caller.
        def boom(done, total):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            de.deblur(img, ev, steps=20, start=1.0, exposure=(0, 30), progress=boom, x_prior="analytic")
        # Context.cancel from another thread.
        ctx = de.Context()
        started = threading.Event()
        def progress(done, total):
            started.set()
            return False
        threading.Thread(target=lambda: (started.wait(), ctx.cancel())).start()
        with self.assertRaises(de.DiffeventError) as cm:
            de.deblur(img, ev, steps=1000, start=1.0, exposure=(0, 30), progress=progress, context=ctx,
                      x_prior="analytic")
        self.assertEqual(cm.exception.status, 6)


class ShippedPriorTest(unittest.TestCase):
    def test_paths_follow_role_and_channels(self):
        self.assertTrue(de.shipped_prior_path("x", 1).endswith("x_prior_grey.pt"))
        self.assertTrue(de.shipped_prior_path("r", 3).endswith("r_prior_rgb.pt"))
        with self.assertRaisesRegex(ValueError, "expected 'x' or 'r'"):
            de.shipped_prior_path("y", 1)
        with self.assertRaisesRegex(de.DiffeventError, "not 2 channels"):
            de.shipped_prior_path("x", 2)

    @unittest.skipUnless(de.has_torch(), "library built without LibTorch")
    def test_deblur_defaults_to_the_shipped_prior_as_the_cli_does(self):
        rng = np.random.default_rng(0)
        img = de.Image.from_numpy(rng.uniform(0.2, 0.8, (32, 32)))
        ev = de.Events.from_arrays(32, 32, [10, 20], [1, 2], [1, 2], [1, 0])
        default, _, _ = de.deblur(img, ev, steps=20, exposure=(0, 30), preset="fast")
        with de.Prior.shipped("x", 1) as prior:
            named, _, _ = de.deblur(img, ev, steps=20, exposure=(0, 30), preset="fast", x_prior=prior)
        analytic, _, _ = de.deblur(img, ev, steps=20, exposure=(0, 30), preset="fast", x_prior="analytic")
        np.testing.assert_array_equal(default.to_numpy(), named.to_numpy())
        self.assertGreater(np.abs(default.to_numpy() - analytic.to_numpy()).max(), 0)


if __name__ == "__main__":
    unittest.main()
