// Module ChatTemplate: see DESIGN.md section 1.
