// Module TranscriptIO: see DESIGN.md section 1.
