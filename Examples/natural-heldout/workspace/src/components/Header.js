// Header component
function Header(props) {
  return { type: "Header", props };
}

module.exports = { Header };
