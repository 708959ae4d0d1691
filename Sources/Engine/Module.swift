// Module Engine: see DESIGN.md section 1.
