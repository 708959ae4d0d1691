const DEFAULT_PAGE_SIZE = 25;

function listRecipes(db, page = 1, pageSize = DEFAULT_PAGE_SIZE) {
  const start = (page - 1) * pageSize;
  return db.recipes.slice(start, start + pageSize);
}

function findRecipe(db, id) {
  return db.recipes.find((r) => r.id === id) || null;
}

module.exports = { listRecipes, findRecipe };
