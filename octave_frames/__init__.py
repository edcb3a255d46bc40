"""octave_frames: Octave's AI sales agents inside pandas."""
