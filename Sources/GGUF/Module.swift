// Module GGUF: see DESIGN.md section 1.
