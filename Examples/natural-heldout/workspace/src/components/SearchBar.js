// SearchBar component
function SearchBar(props) {
  return { type: "SearchBar", props };
}

module.exports = { SearchBar };
