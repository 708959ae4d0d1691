// RecipeCard component
function RecipeCard(props) {
  return { type: "RecipeCard", props };
}

module.exports = { RecipeCard };
