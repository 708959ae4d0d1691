// Module Tokenizer: see DESIGN.md section 1.
