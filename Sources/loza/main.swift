print("loza")
