// RecipeList component
function RecipeList(props) {
  return { type: "RecipeList", props };
}

module.exports = { RecipeList };
