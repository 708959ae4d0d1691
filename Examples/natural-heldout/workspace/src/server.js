const express = require("express");
const { listRecipes } = require("./api/recipes");

const app = express();
const PORT = process.env.PORT || 3000;

app.get("/recipes", (req, res) => {
  const page = Number(req.query.page || 1);
  res.json(listRecipes(app.locals.db, page));
});

app.listen(PORT, () => console.log(`recipe-box listening on ${PORT}`));
