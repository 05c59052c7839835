"""The rule that decides (stats), the verdict, calibration and the history of measurements."""
