// Module LocalModel: see DESIGN.md section 1.
